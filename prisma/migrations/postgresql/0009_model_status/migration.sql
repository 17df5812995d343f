-- AlterEnum (the runner wraps each migration in one transaction: no BEGIN / COMMIT here)
CREATE TYPE "ModelStatus_new" AS ENUM ('READY');
ALTER TABLE "public"."ModelVersion" ALTER COLUMN "status" DROP DEFAULT;
ALTER TABLE "ModelVersion" ALTER COLUMN "status" TYPE "ModelStatus_new" USING ("status"::text::"ModelStatus_new");
ALTER TYPE "ModelStatus" RENAME TO "ModelStatus_old";
ALTER TYPE "ModelStatus_new" RENAME TO "ModelStatus";
DROP TYPE "public"."ModelStatus_old";
ALTER TABLE "ModelVersion" ALTER COLUMN "status" SET DEFAULT 'READY';

-- AlterTable
ALTER TABLE "ModelVersion" ALTER COLUMN "status" SET DEFAULT 'READY';
