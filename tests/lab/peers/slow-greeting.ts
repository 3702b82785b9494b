// SMTP server whose multi-line greeting arrives in pieces cut mid-line over --greeting-ms
// (default 3000), that punishes a client talking before the final "220 " like postscreen does,
// and then upgrades to real TLS (self-signed, made by openssl at startup) limited to
// --min-version/--max-version (default TLSv1.2..TLSv1.3).
//   node --import tsx tests/lab/peers/slow-greeting.ts --listen 127.0.0.1:2527
import { listenAndAnnounce, parsePeerArguments } from "./common";
import { createMailServer, mailServerOptionsFrom } from "./mail-server";

const args = parsePeerArguments();
listenAndAnnounce(createMailServer(mailServerOptionsFrom(args, { greetingMs: 3000 })), args, "slow-greeting");
