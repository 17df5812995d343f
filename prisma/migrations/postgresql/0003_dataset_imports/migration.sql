-- CreateTable
CREATE TABLE "DatasetImport" (
    "id" SERIAL NOT NULL,
    "digest" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "posts" INTEGER NOT NULL,
    "users" INTEGER NOT NULL,
    "interactions" INTEGER NOT NULL,
    "importedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "DatasetImport_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "DatasetImport_digest_key" ON "DatasetImport"("digest");
