-- CreateEnum
CREATE TYPE "ExperimentStatus" AS ENUM ('DRAFT', 'RUNNING', 'STOPPED');

-- CreateEnum
CREATE TYPE "ImpressionOrigin" AS ENUM ('SERVED', 'CLIENT');

-- CreateTable
CREATE TABLE "Experiment" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "signalId" INTEGER NOT NULL,
    "status" "ExperimentStatus" NOT NULL DEFAULT 'DRAFT',
    "runningSignalId" INTEGER,
    "attributionWindowS" INTEGER NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "stoppedAt" TIMESTAMP(3),
    "droppedImpressions" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "Experiment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ExperimentArm" (
    "experimentId" INTEGER NOT NULL,
    "ordinal" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "share" DOUBLE PRECISION NOT NULL,
    "source" "EmbeddingSource" NOT NULL,

    CONSTRAINT "ExperimentArm_pkey" PRIMARY KEY ("experimentId","ordinal")
);

-- CreateTable
CREATE TABLE "ExperimentExposure" (
    "id" SERIAL NOT NULL,
    "experimentId" INTEGER NOT NULL,
    "userExternalId" TEXT NOT NULL,
    "arm" INTEGER NOT NULL,
    "origin" "ImpressionOrigin" NOT NULL,
    "servedAt" TIMESTAMP(3) NOT NULL,
    "position" INTEGER NOT NULL DEFAULT 0,
    "posts" BYTEA NOT NULL,
    "sources" BYTEA NOT NULL,

    CONSTRAINT "ExperimentExposure_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Experiment_name_key" ON "Experiment"("name");

-- CreateIndex
CREATE UNIQUE INDEX "Experiment_runningSignalId_key" ON "Experiment"("runningSignalId");

-- CreateIndex
CREATE UNIQUE INDEX "ExperimentArm_experimentId_name_key" ON "ExperimentArm"("experimentId", "name");

-- CreateIndex
CREATE INDEX "ExperimentExposure_experimentId_id_idx" ON "ExperimentExposure"("experimentId", "id");

-- AddForeignKey
ALTER TABLE "Experiment" ADD CONSTRAINT "Experiment_signalId_fkey" FOREIGN KEY ("signalId") REFERENCES "Signal"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ExperimentArm" ADD CONSTRAINT "ExperimentArm_experimentId_fkey" FOREIGN KEY ("experimentId") REFERENCES "Experiment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ExperimentExposure" ADD CONSTRAINT "ExperimentExposure_experimentId_fkey" FOREIGN KEY ("experimentId") REFERENCES "Experiment"("id") ON DELETE CASCADE ON UPDATE CASCADE;
