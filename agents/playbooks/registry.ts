// Transitional: the reg.exe reader is agents/playbooks/reg-exe.ts (the playbook registry is
// index.ts). windows-schannel.ts and its test still import this path; switch them to ./reg-exe
// and delete this file.
export * from "./reg-exe";
