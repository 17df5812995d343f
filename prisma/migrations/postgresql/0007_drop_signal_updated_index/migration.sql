-- DropIndex
DROP INDEX "PostEmbedding_signalId_updatedAt_idx";
