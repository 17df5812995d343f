-- CreateIndex
CREATE INDEX "Post_registeredAt_idx" ON "Post"("registeredAt");

-- CreateIndex
CREATE INDEX "PostEmbedding_signalId_updatedAt_idx" ON "PostEmbedding"("signalId", "updatedAt");
