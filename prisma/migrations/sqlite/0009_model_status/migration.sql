-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_ModelVersion" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "version" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "signalId" INTEGER,
    "mediaType" TEXT,
    "status" TEXT NOT NULL DEFAULT 'READY',
    "metrics" TEXT NOT NULL DEFAULT '{}',
    "artefact" TEXT NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "activatedAt" DATETIME,
    CONSTRAINT "ModelVersion_signalId_fkey" FOREIGN KEY ("signalId") REFERENCES "Signal" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_ModelVersion" ("activatedAt", "active", "artefact", "createdAt", "id", "kind", "mediaType", "metrics", "signalId", "status", "version") SELECT "activatedAt", "active", "artefact", "createdAt", "id", "kind", "mediaType", "metrics", "signalId", "status", "version" FROM "ModelVersion";
DROP TABLE "ModelVersion";
ALTER TABLE "new_ModelVersion" RENAME TO "ModelVersion";
CREATE UNIQUE INDEX "ModelVersion_version_key" ON "ModelVersion"("version");
CREATE INDEX "ModelVersion_kind_signalId_mediaType_active_idx" ON "ModelVersion"("kind", "signalId", "mediaType", "active");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
