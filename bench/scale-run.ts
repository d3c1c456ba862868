/** `npm run bench:scale`: only the audit-and-usage-at-scale loads of bench/scale.ts, printed as Markdown. */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';

const { withBenchPlatform } = await import('./local-session.ts');
const { measureScale, renderScale } = await import('./scale.ts');
const results = await withBenchPlatform((bench) => measureScale(bench));
process.stdout.write(`${renderScale(results)}\n`);
