-- AlterTable
ALTER TABLE "Interaction" ADD COLUMN     "eventId" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "Interaction_eventId_key" ON "Interaction"("eventId");
