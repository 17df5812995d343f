/**
 * onnxruntime 1.29+ sends usage telemetry from its native library on Linux (a DNS lookup of
 * mobile.events.data.microsoft.com, a device id and an event queue under ~/.cache/Microsoft), which a service that
 * promises no network access at run time must not do. The switch is read when the native runtime starts, so every
 * module that loads onnxruntime-node imports this one first (ES modules run their imports in order). An operator who
 * wants the telemetry sets ORT_DISABLE_TELEMETRY=0 explicitly. Checked by test/e2e/media-offline.test.ts (strace).
 */
process.env.ORT_DISABLE_TELEMETRY ??= '1';
export {};
