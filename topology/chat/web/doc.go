// Package web serves a chat to a browser: scuttle chat --web ADDR.
//
// # Model
//
// The page is a view over one chat value (the Chat interface, which
// *chat.Chat implements), never a second copy of its logic: it shows the
// lines of Chat.Lines (the history, then each new line), the status, who
// is here and the names with their keys, and hands each typed line to
// Chat.Type, commands included, as the terminal does. Every string of the
// chat is escaped already (chat.Escape) and the page inserts it as text
// (textContent), never as markup.
//
// The server listens on Config.Addr, loopback unless the user names
// another address, and tells the user one line through Config.Info:
//
//	info> web interface at http://127.0.0.1:PORT/?s=SECRET
//
// SECRET is 32 bytes of crypto/rand, base64url. The first GET of that
// address exchanges it for a cookie (scuttle_PORT; HttpOnly,
// SameSite=Strict, Path=/, for the browser's session) and redirects to
// "/", so the secret leaves the address bar and the history. The page is
// three files embedded in the binary (index.html, app.js, app.css) and a
// shared worker (worker.js); nothing is fetched from elsewhere.
//
// # Routes
//
//	GET  /?s=SECRET  the sign-in: 303 to / with the cookie
//	GET  /           the page
//	GET  /app.js     its script
//	GET  /app.css    its style
//	GET  /worker.js  the shared worker
//	GET  /events     Server-Sent Events: reset, state, then each line
//	POST /type       one typed line, the body (at most MaxBody bytes): 204
//	GET  /image/{id} an image file a line shows (chat.Line.Image): the
//	                 bytes with their type (image/png, jpeg, gif or webp
//	                 only) and nosniff; 404 for any id the chat does not
//	                 hand out (Chat.Image)
//
// Every request passes, in this order: the security headers (set on every
// answer, errors too), the Host check (421), the origin check (403), the
// Go http.CrossOriginProtection check for POST (403), then the secret or
// the cookie (403); then the route (404, 405). See TestGuards.
//
// # Streams and the browser's connections
//
// Browsers open at most six HTTP/1.1 connections to one host, and an
// open Server-Sent Events stream holds one of them: with a stream per
// tab, the seventh tab of the page waits for ever, even for the page
// itself (TestBrowserFigures measures it: 6 of 10 tabs). So the page's
// streams go through a SharedWorker (worker.js): one stream per browser
// profile, whatever the number of tabs, which the worker replays to each
// tab (the last 2000 lines and the state); TestBrowserFake opens ten tabs
// and checks that the chat has one subscriber. A browser without
// SharedWorker opens a stream per tab.
//
// The server serves at most Config.MaxStreams streams (DefaultMaxStreams)
// and refuses one more with 503 and the reason, which the page shows
// (TestStreamCap); it accepts at most Config.MaxConns connections at once,
// the next ones waiting (TestConnCap). Every answer is written within a
// deadline, each event of a stream too; a stream whose reader is gone
// ends at its next write (TestStreamWriteFailsEndsLines) and its
// subscription with it (TestStreamEndsWithClient). The chat cuts off a
// subscriber that falls behind; the page's EventSource then reconnects,
// and the new stream starts with a reset and the history again.
//
// A typed line is posted at Enter and the input emptied at once, so the
// next line can be typed; a line the chat did not take is given back to
// the input, with the reason.
//
// The tests drive headless Chromium over the DevTools protocol (the
// --remote-debugging-pipe, so the browser opens no port), in a network
// namespace of its own with loopback alone (unshare -n; they skip without
// root, unshare, ip or Chromium): TestBrowser with two real chats,
// TestBrowserFake with a made-up one.
//
// # Threat model
//
// The page can do what the user at the terminal can: read the
// conversation and the names, and say anything. So must nobody else.
//
// A web page of another site, open in the user's browser, cannot:
//   - read or use the page through DNS rebinding (its name pointing at
//     this server): a Host other than localhost, the bound address or a
//     name the user passed is refused with 421 (TestGuards rows
//     "rebinding name", "name of the address", "other address";
//     TestGuardsNamedHost, TestGuardsIPv6, TestHostAllowed);
//   - make the browser type a line or read the stream (cross-site request
//     forgery): every route needs the cookie, which the browser does not
//     send with another site's request (SameSite=Strict); a request whose
//     Sec-Fetch-Site is not same-origin or none, or whose Origin is not
//     the page's, is refused with 403, GET included; POST also passes
//     http.CrossOriginProtection (TestGuards rows "cross-site",
//     "same-site, other port", "foreign Origin", "null Origin");
//   - read an answer: the server sends no CORS header, and
//     Cross-Origin-Resource-Policy same-origin (TestGuards checks both on
//     every answer);
//   - frame the page: frame-ancestors 'none' and X-Frame-Options, on
//     every answer (TestGuards).
//
// A peer of the chat cannot run script in the page: its strings are
// escaped by the chat and inserted as text only; the one URL the page
// makes is an image's, /image/ and a content id it checks first, and the
// server serves under it only PNG, JPEG, GIF and WebP files the chat
// showed, with their type and nosniff, never SVG or HTML (TestImage,
// TestAssets); app.js and worker.js
// use no markup-making call and the Content-Security-Policy allows no
// inline script, no other origin (TestAssets; TestBrowser and
// TestBrowserFake show lines of markup and check that they are text).
//
// Someone on the LAN, when ADDR is not loopback, can connect and send
// requests, but cannot:
//   - read or type without the secret or the cookie: every route answers
//     403 without them (TestGuards rows "no cookie", "wrong cookie",
//     "wrong secret"); the secret is 256 random bits, compared in
//     constant time;
//   - hold the server: bounded headers (16 KiB), header and body read
//     timeouts, a line's body at most MaxBody bytes (TestType "too
//     long"), at most Config.MaxStreams streams and Config.MaxConns
//     connections (TestStreamCap, TestConnCap); though by opening that
//     many they can keep the user's own browser out until they stop.
//
// But the page is plain HTTP, without TLS: someone who can see the LAN's
// traffic reads the secret in clear on its first use, and the cookie on
// every request after it, and so can read and type as the user; and the
// conversation itself crosses in clear. Serve on a non-loopback address
// only on a network where that is acceptable, or reach a loopback page
// through an encrypted tunnel (ssh -L).
//
// A program of another user of the same machine can connect to a loopback
// page too, and is stopped by the secret as a LAN stranger is. Browsers
// send a host's cookies to every port of it: a web server of another user
// on another port of the same host, visited in the user's browser, is
// sent the cookie. The cookie is named by port, so two chats on one host
// keep theirs.
package web
