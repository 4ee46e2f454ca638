// Hello-world node:http server: the smallest app, so any per-request agent cost shows fully.
import http from 'node:http';

const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('Hello World!');
});
server.listen(Number(process.env.PORT), '127.0.0.1');

// Close on SIGTERM (instead of dying) so an agent's shutdown hook can flush its last batch
// and `--cpu-prof` can write its profile on a normal exit.
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
});
