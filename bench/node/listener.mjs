// A plain Node.js (20) listener doing the Go listener's work, for `make bench` to compare:
// the Runtime API loop, the event parsed with JSON.parse, each message's base64 decoded and its
// JSON body parsed, one JSON log line per message and one per batch on stdout. What a new user
// would write with no framework; not deployed. The batch's lines are written at once and
// flushed before the response is posted, as the Go listener does: a line still in Node's buffer
// when the response goes is not yet paid for.
import http from 'node:http';

const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const base = '/2018-06-01/runtime/invocation/';

function call(method, path, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function handle(event, requestId) {
  const start = process.hrtime.bigint();
  const lines = [];
  if (event.eventSource !== 'aws:rmq') throw new Error(`not a RabbitMQ event: ${event.eventSource}`);
  const byQueue = event.rmqMessagesByQueue || {};
  let processed = 0;
  for (const key of Object.keys(byQueue).sort()) {
    const at = key.lastIndexOf('::');
    const queue = key.slice(0, at), vhost = key.slice(at + 2);
    byQueue[key].forEach((m, index) => {
      const p = m.basicProperties || {};
      const body = Buffer.from(m.data || '', 'base64');
      let summary;
      if (p.contentType === 'application/json') {
        const v = JSON.parse(body.toString('utf8'));
        summary = `JSON ${Array.isArray(v) ? 'array' : typeof v === 'object' ? 'object' : 'value'}, ${body.length} bytes`;
      } else {
        summary = `${body.length} bytes of ${p.contentType || 'unknown content type'}`;
      }
      processed++;
      lines.push(JSON.stringify({
        time: new Date().toISOString(), level: 'INFO', msg: 'message', requestId, queue, vhost, index,
        id: p.messageId || '', messageId: p.messageId || '', correlationId: p.correlationId || '',
        redelivered: !!m.redelivered, bodyBytes: body.length, outcome: 'processed', summary,
      }));
    });
  }
  lines.push(JSON.stringify({
    time: new Date().toISOString(), level: 'INFO', msg: 'batch', requestId, outcome: 'processed',
    messages: processed, processed, durationMs: Number(process.hrtime.bigint() - start) / 1e6,
  }));
  return lines.join('\n') + '\n';
}

const write = (text) => new Promise((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())));

for (;;) {
  const next = await call('GET', base + 'next');
  const id = next.headers['lambda-runtime-aws-request-id'];
  try {
    await write(handle(JSON.parse(next.body.toString('utf8')), id));
    await call('POST', base + id + '/response', 'null');
  } catch (err) {
    await call('POST', base + id + '/error', JSON.stringify({ errorMessage: String(err), errorType: 'Error' }));
  }
}
