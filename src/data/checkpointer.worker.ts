/**
 * Background WAL checkpoints for a serving process (see DirectSqlite.startCheckpointer): copies committed WAL frames
 * into the database file on this thread, so that no request's commit pays for it on the event loop. PASSIVE never
 * waits for readers or writers; frames it could not copy are copied by a later pass.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { path, intervalMs } = (workerData as { data: { path: string; intervalMs: number } }).data;
let db: Database.Database;
try {
  db = new Database(path, { fileMustExist: true });
} catch {
  // The process closed and removed its database before this thread was up (a short-lived server in a test): there
  // is nothing to checkpoint, and creating an empty file would be wrong.
  process.exit(0);
}
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // SQLITE_BUSY or a locked file: the next pass tries again.
  }
}, intervalMs);

parentPort!.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort!.close();
});
