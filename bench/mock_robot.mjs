// A local robot for the reminder benchmarks: generic webhooks (/hook/…) and one DingTalk
// robot (/robot/send) that enforces DingTalk's 20 messages a minute with its 130101 answer.
// GET /stats reports what arrived, with real arrival times (ms since the epoch); POST /reset
// starts a new scenario.
import { createServer } from 'node:http';

const port = Number(process.argv[2] || 0);
const arrivals = [];
const keys = new Map();
const dingtalkRecent = [];
let rateLimited = 0;

const server = createServer((request, response) => {
  if (request.method === 'POST' && request.url === '/reset') {
    arrivals.length = 0;
    keys.clear();
    dingtalkRecent.length = 0;
    rateLimited = 0;
    response.end('{}');
    return;
  }
  if (request.method === 'GET' && request.url === '/stats') {
    const times = arrivals.map((a) => a.at);
    const duplicates = [...keys.values()].filter((n) => n > 1).length;
    response.setHeader('Content-Type', 'application/json');
    response.end(JSON.stringify({
      count: arrivals.length,
      unique: keys.size,
      duplicates,
      rate_limited: rateLimited,
      first: times.length ? Math.min(...times) : null,
      last: times.length ? Math.max(...times) : null,
    }));
    return;
  }
  let body = '';
  request.on('data', (chunk) => { body += chunk; });
  request.on('end', () => {
    const at = Date.now();
    response.setHeader('Content-Type', 'application/json');
    let key;
    try {
      const parsed = JSON.parse(body);
      key = parsed.msgUuid || parsed.key;
    } catch {
      response.statusCode = 400;
      response.end('{"error":"bad json"}');
      return;
    }
    if (request.url.startsWith('/robot/send')) {
      while (dingtalkRecent.length && at - dingtalkRecent[0] >= 60000) dingtalkRecent.shift();
      if (dingtalkRecent.length >= 20) {
        rateLimited += 1;
        response.end('{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}');
        return;
      }
      dingtalkRecent.push(at);
    }
    arrivals.push({ at, key });
    keys.set(key, (keys.get(key) || 0) + 1);
    response.end(request.url.startsWith('/robot/send') ? '{"errcode":0,"errmsg":"ok"}' : '{"ok":true}');
  });
});
server.listen(port, '127.0.0.1', () => {
  console.log(server.address().port);
});
