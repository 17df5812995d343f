-- CreateTable
CREATE TABLE "Experiment" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "signalId" INTEGER NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'DRAFT',
    "runningSignalId" INTEGER,
    "attributionWindowS" INTEGER NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" DATETIME,
    "stoppedAt" DATETIME,
    "droppedImpressions" INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT "Experiment_signalId_fkey" FOREIGN KEY ("signalId") REFERENCES "Signal" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ExperimentArm" (
    "experimentId" INTEGER NOT NULL,
    "ordinal" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "share" REAL NOT NULL,
    "source" TEXT NOT NULL,

    PRIMARY KEY ("experimentId", "ordinal"),
    CONSTRAINT "ExperimentArm_experimentId_fkey" FOREIGN KEY ("experimentId") REFERENCES "Experiment" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ExperimentExposure" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "experimentId" INTEGER NOT NULL,
    "userExternalId" TEXT NOT NULL,
    "arm" INTEGER NOT NULL,
    "origin" TEXT NOT NULL,
    "servedAt" DATETIME NOT NULL,
    "position" INTEGER NOT NULL DEFAULT 0,
    "posts" BLOB NOT NULL,
    "sources" BLOB NOT NULL,
    CONSTRAINT "ExperimentExposure_experimentId_fkey" FOREIGN KEY ("experimentId") REFERENCES "Experiment" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE UNIQUE INDEX "Experiment_name_key" ON "Experiment"("name");

-- CreateIndex
CREATE UNIQUE INDEX "Experiment_runningSignalId_key" ON "Experiment"("runningSignalId");

-- CreateIndex
CREATE UNIQUE INDEX "ExperimentArm_experimentId_name_key" ON "ExperimentArm"("experimentId", "name");

-- CreateIndex
CREATE INDEX "ExperimentExposure_experimentId_id_idx" ON "ExperimentExposure"("experimentId", "id");
