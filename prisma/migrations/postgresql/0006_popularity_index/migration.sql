-- CreateIndex
CREATE INDEX "PostSignalStat_signalId_positives_postId_idx" ON "PostSignalStat"("signalId", "positives", "postId");
