// One logger for web, worker and CLI: JSON lines, with every field that can hold a secret redacted.
import pino from "pino";
import { env } from "./env";

export const logger = pino({
  level: env.LOG_LEVEL,
  base: { app: "tlsfleet" },
  redact: {
    paths: [
      "password", "*.password", "secret", "*.secret", "token", "*.token", "passwordHash", "*.passwordHash",
      "secretEncrypted", "*.secretEncrypted", "privateKey", "*.privateKey", "authorization", "*.authorization",
      "headers.cookie", "*.headers.cookie", "credentials", "*.credentials",
    ],
    censor: "[redacted]",
  },
});
