// nginx: which TLS versions each server block allows (ssl_protocols), and changing it by editing
// the file that sets it. docs/domain.md "Linux mail and web servers"; nginx.org ngx_http_ssl_module,
// ngx_stream_ssl_module, ngx_mail_ssl_module ("ssl_protocols", contexts: http|stream|mail, server).
//
// Reading: `nginx -T` tests the configuration and dumps every file it read, each after a line
// "# configuration file PATH:" with the file's bytes verbatim (src/core/nginx.c). The dump is
// parsed per file with nginx's own tokenizer rules (ngx_conf_read_token: quotes, backslash
// escapes, "#" comments at token start, "${var}" braces) and the include directives are
// followed against the dumped files, so every server block gets its effective ssl_protocols:
// its own, else its http/stream/mail block's, else nginx's built-in default, which depends on the
// version (`nginx -v`):
//   before 1.23.4: TLSv1 TLSv1.1 TLSv1.2 (measured here: Debian's 1.22.1 rejects TLS 1.3 and
//                  accepts 1.0 without any ssl_protocols);
//   1.23.4 - 1.27.2: TLSv1 TLSv1.1 TLSv1.2 TLSv1.3 ("TLSv1.3 is now enabled by default");
//   1.27.3 and later: TLSv1.2 TLSv1.3 (TLSv1 and TLSv1.1 dropped from the default).
//
// Writing: the file is read byte-exact (base64), the one directive is replaced (or inserted at
// the top of the http/stream/mail block when no file sets it), the file is written back through a
// constant `sh -c 'base64 -d > "$1"'` with the content on stdin, a copy is kept on the host, then
// `nginx -t` and `nginx -s reload`. Anything failing puts the original bytes back.
//
// Verdicts account for two things besides ssl_protocols (docs/domain.md "nginx: the default server
// decides" and "What the library allows"): on one address:port the default server decides the
// version before nginx knows the SNI name (before 1.29.2 for every name: decidingServer), and
// OpenSSL 3 refuses TLS 1.0/1.1 at every security level above 0 (ssl_ciphers' @SECLEVEL, else
// openssl.cnf's; narrowByLibrary). The plan still changes every directive that allows legacy versions, so the result does not depend
// on either. Not modelled: proxy_ssl_protocols and friends (upstream, client side), Lua
// *_by_lua_block bodies (raw Lua, skipped as opaque blocks), ssl_conf_command (its server is not
// narrowed).
//
// Where it lives: parse.ts (one file, nginx's tokenizer rules), dump.ts (`nginx -T` / `nginx -v`
// output, the version's default), resolve.ts (includes followed, each server's effective
// ssl_protocols), state.ts (the verdicts, check), plan.ts, edit.ts (one file's bytes changed),
// apply.ts (apply and rollback). The public surface is this file.

// Any address outside loopback and the lab named in this file's comments is an example, never dialled.
import { linuxServicePlaybook } from "../linux-common";
import { applyNginx, rollbackNginx } from "./apply";
import { planNginx } from "./plan";
import { checkNginx, type NginxState } from "./state";

export { applyNginx, backupPathFor, rollbackNginx } from "./apply";
export { nginxDefaultProtocols, parseNginxVersion, evaluateSslProtocols, splitNginxDump, type NginxDumpFile } from "./dump";
export { editNginxFile, withoutManaged, type EditOutcome } from "./edit";
export { NginxSyntaxError, parseNginxConfig, type NginxDirective } from "./parse";
export { COMPLIANT_PROTOCOLS, planDisableLegacy, planEnableTls12, planNginx } from "./plan";
export { resolveNginx, type NginxBlock, type NginxContext, type NginxProtocolDirective, type NginxResolved, type NginxServer } from "./resolve";
export { candidateFiles, checkNginx, decidingServer, defaultServers, interpretNginx, listenAddress, type NginxChange, type NginxState } from "./state";

export const nginxPlaybook = linuxServicePlaybook<NginxState>("nginx", { check: checkNginx, plan: planNginx, apply: applyNginx, rollback: rollbackNginx });
