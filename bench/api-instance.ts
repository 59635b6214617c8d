// A second (third, …) admin API instance for `npm run bench api`: the compiled dist/ API on its own
// port and process, on the same Redis, as an operator runs several XLINE_ROLE=api instances on one
// host behind a load balancer. argv: port, Redis socket path or URL. Prints 'ready' when listening.
import { benchApi } from './api-app.js';

const [port, redisAt] = process.argv.slice(2) as [string, string];
const { ctx, buildAdminApp } = await benchApi(redisAt, process.env.BENCH_ACCESS_KEYS ?? '');
const app = await buildAdminApp(ctx);
await app.listen({ host: '127.0.0.1', port: Number(port) });
process.stdout.write('ready\n');
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
