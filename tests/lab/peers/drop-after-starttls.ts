// SMTP server that greets, offers STARTTLS, answers "220 Ready to start TLS" and then drops the
// connection (or, with --stall, keeps it open and never answers the ClientHello). Every version
// must come out "unknown", never "rejected": nothing was said about any version.
//   node --import tsx tests/lab/peers/drop-after-starttls.ts --listen 127.0.0.1:2528 [--stall]
import { listenAndAnnounce, parsePeerArguments } from "./common";
import { createMailServer, mailServerOptionsFrom } from "./mail-server";

const args = parsePeerArguments();
const afterStartTls = args.flags.has("stall") ? "stall" : "drop";
listenAndAnnounce(createMailServer(mailServerOptionsFrom(args, { afterStartTls })), args, "drop-after-starttls");
