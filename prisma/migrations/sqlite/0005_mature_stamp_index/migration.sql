-- DropIndex
DROP INDEX "PostEmbedding_signalId_source_idx";

-- CreateIndex
CREATE INDEX "PostEmbedding_signalId_source_updatedAt_idx" ON "PostEmbedding"("signalId", "source", "updatedAt");
