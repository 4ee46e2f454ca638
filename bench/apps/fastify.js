// Hello-world Fastify app: one parametrised route, no logger, no plugins.
import Fastify from 'fastify';

const app = Fastify();
app.get('/items/:id', async (req) => ({ id: req.params.id }));
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });

// See apps/http.js: close rather than die, so agents flush and profiles get written.
process.on('SIGTERM', () => {
  void app.close();
});
