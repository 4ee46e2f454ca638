// Hello-world Express app: one route, no extra middleware.
import express from 'express';

const app = express();
app.get('/', (req, res) => {
  res.send('Hello World!');
});
const server = app.listen(Number(process.env.PORT), '127.0.0.1');

// See apps/http.js: close rather than die, so agents flush and profiles get written.
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
});
