// A local robot for the reminder benchmarks: generic webhooks (/hook/…), one DingTalk
// robot (/robot/send) that enforces DingTalk's 20 messages a minute with its 130101 answer
// (and its 10-minute ban after that), and the personal push services (Bark /bark/push, ntfy
// /ntfy-…, Gotify /gotify/message, ServerChan /sct/….send, PushPlus /pushplus/send,
// WxPusher /wxpusher/api/send/message), each answering success as the service does.
// GET /stats reports what arrived, with real arrival times (ms since the epoch): messages,
// people reminded (a merged DingTalk message counts everyone it mentions) and duplicates;
// POST /reset starts a new scenario.
import { createServer } from 'node:http';

const port = Number(process.argv[2] || 0);
const arrivals = [];
const keys = new Map();
const dingtalkRecent = [];
let rateLimited = 0;
let bannedUntil = 0;
let people = 0;

const server = createServer((request, response) => {
  if (request.method === 'POST' && request.url === '/reset') {
    arrivals.length = 0;
    keys.clear();
    dingtalkRecent.length = 0;
    rateLimited = 0;
    bannedUntil = 0;
    people = 0;
    response.end('{}');
    return;
  }
  if (request.method === 'GET' && request.url === '/stats') {
    const times = arrivals.map((a) => a.at);
    const duplicates = [...keys.values()].filter((n) => n > 1).length;
    response.setHeader('Content-Type', 'application/json');
    response.end(JSON.stringify({
      count: arrivals.length,
      people,
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
    let parsed;
    try {
      parsed = request.url.startsWith('/ntfy-') ? { text: body } : JSON.parse(body);
    } catch {
      response.statusCode = 400;
      response.end('{"error":"bad json"}');
      return;
    }
    // Generic webhooks and DingTalk carry their own keys; a personal push is identified by
    // where it went and what it says (the text names the person).
    const key = parsed.msgUuid || parsed.key
      || `${request.url}|${parsed.device_key || parsed.token || parsed.appToken || ''}|${parsed.body || parsed.message || parsed.desp || parsed.content || parsed.text}`;
    let answer = '{"ok":true}';
    let reminded = 1;
    if (request.url.startsWith('/robot/send')) {
      while (dingtalkRecent.length && at - dingtalkRecent[0] >= 60000) dingtalkRecent.shift();
      if (at < bannedUntil || dingtalkRecent.length >= 20) {
        if (at >= bannedUntil) bannedUntil = at + 600000;
        rateLimited += 1;
        response.end('{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}');
        return;
      }
      dingtalkRecent.push(at);
      answer = '{"errcode":0,"errmsg":"ok"}';
      reminded = Math.max(1, (parsed.at?.atMobiles || []).length);
    } else if (request.url.startsWith('/bark/')) {
      answer = '{"code":200,"message":"success","timestamp":1700000000}';
    } else if (request.url.startsWith('/ntfy-')) {
      answer = '{"id":"bench","time":1700000000,"event":"message"}';
    } else if (request.url.startsWith('/gotify/')) {
      answer = '{"id":1,"appid":1}';
    } else if (request.url.startsWith('/sct/')) {
      answer = '{"code":0,"message":"","data":{"errno":0}}';
    } else if (request.url.startsWith('/pushplus/')) {
      answer = '{"code":200,"msg":"请求成功","data":"bench"}';
    } else if (request.url.startsWith('/wxpusher/')) {
      answer = JSON.stringify({ code: 1000, msg: '处理成功', success: true,
        data: (parsed.uids || []).map((uid) => ({ uid, code: 1000, status: '创建发送任务成功' })) });
    }
    people += reminded;
    arrivals.push({ at, key });
    keys.set(key, (keys.get(key) || 0) + 1);
    response.end(answer);
  });
});
server.listen(port, '127.0.0.1', () => {
  console.log(server.address().port);
});
