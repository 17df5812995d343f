-- CreateTable
CREATE TABLE "DatasetImport" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "digest" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "posts" INTEGER NOT NULL,
    "users" INTEGER NOT NULL,
    "interactions" INTEGER NOT NULL,
    "importedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateIndex
CREATE UNIQUE INDEX "DatasetImport_digest_key" ON "DatasetImport"("digest");
