/**
 * `ura` — the command line of the gateway. Declares every command with its arguments and options
 * (commander parses, checks and documents them); each command's action lives in its own module
 * (start.ts, cert.ts, log.ts, …), imported only when the command runs, so help and usage errors
 * answer without loading the gateway.
 */
import { Option } from 'commander'
import { KEY_TYPES } from '../certs/pki.ts'
import { createProgram, run, runProgram, wholeNumber, type UraCommand } from './command.ts'
// Small (argument checks and node:crypto): the code itself is made by the action, loaded when it runs.
import { instant, totpSecret } from './totp.ts'
import { cutInstant } from './log-args.ts'

/** `--data` and `--config`: where the PKI commands find the data directory (see pki-args.ts). */
function withPkiOptions (cmd: UraCommand): UraCommand {
  return cmd
    .option('--data <dir>', 'data directory (default: node.dataDir of the configuration)')
    .option('--config <dir>', 'configuration directory (default: config/demo)')
}

export function buildProgram (): UraCommand {
  const program = createProgram()

  program.command('start')
    .summary('run the gateway')
    .description([
      'Starts the gateway on the configuration in <dir> (default: config/demo).',
      'Its registry is the registry store (node.registry.store); an empty store is first seeded from the YAML files in <dir>, and new versions are applied while the node runs.',
      'Stops gracefully on SIGTERM or SIGINT: stops accepting, finishes exchanges in flight.',
    ].join('\n'))
    .option('--config <dir>', 'configuration directory (YAML files)')
    .option('--demo', 'also start the demo provider systems (civil registry, Tirana tax office)')
    .action(run(async () => (await import('./start.ts')).start))

  const config = program.command('config').description('the configuration of a node, and the versioned registry store')
  config.command('check')
    .summary('validate a configuration directory')
    .description([
      'Loads every YAML file in <dir>, checks it against the configuration schema and cross-references, compiles its schemas and prints each problem with file:line and the path inside the file.',
      'Exit code 0 when valid, 1 when not.',
    ].join('\n'))
    .argument('<dir>', 'configuration directory (YAML files)')
    .action(run(async () => (await import('./config-check.ts')).configCheck))
  const storeOptions = (cmd: UraCommand): UraCommand => cmd
    .option('--config <dir>', "the node's configuration: its instance, and its data directory (default: config/demo)")
    .option('--store <file|url>', 'the registry store: a SQLite file or a postgres:// URL (default: the node\'s node.registry.store, <dataDir>/registry.sqlite unless set)')
  storeOptions(config.command('import'))
    .summary('store the registry parts of a directory as a new registry version')
    .description([
      'Reads members, groups, services and access from every YAML file in <dir> (node settings are skipped), checks them with the configuration schema and cross-references, and commits them to the registry store as a new version with who made it and why. Prints what changed.',
      'Exit code 0 when stored, 1 when refused (invalid content, or --expect is not the current version).',
    ].join('\n'))
    .argument('<dir>', 'configuration directory (YAML files)')
    .requiredOption('--why <text>', 'the reason for the change, kept with the version')
    .option('--who <name>', 'who makes the change (default: the login name)')
    .addOption(new Option('--expect <n>', 'the version this change replaces; refused if another is current (default: the current one)').argParser(wholeNumber(0)))
    .action(run(async () => (await import('./config-registry.ts')).configImport))
  storeOptions(config.command('export'))
    .summary('write a registry version as YAML files')
    .description('Writes the registry version (default: the current one) to <dir> as members.yaml (with groups), services.yaml and access.yaml.')
    .argument('<dir>', 'directory to write to (created if missing)')
    .addOption(new Option('--version <n>', 'the registry version to export (default: the current one)').argParser(wholeNumber(0)))
    .action(run(async () => (await import('./config-registry.ts')).configExport))

  withPkiOptions(program.command('init'))
    .summary('create the development PKI (idempotent)')
    .description([
      "Creates, in <data>/pki, whatever is missing of: a development root CA (also trusted), the node's HTTPS certificate (localhost, 127.0.0.1, ::1), a signing key and certificate for every member of the configuration and a TLS client key and certificate for every subsystem with connection: mtls.",
      'Existing files are kept. Private keys are encrypted with $URA_KEY_PASSPHRASE (a development default with a warning when unset).',
    ].join('\n'))
    .addOption(new Option('--member-key <type>', 'key type of member signing keys').choices(KEY_TYPES).default('ec-p256'))
    .action(run(async () => (await import('./init.ts')).init))

  const cert = program.command('cert').description('certificates: requested by an institution, issued and revoked by the operator')
  cert.command('request')
    .summary('make a key and a CSR for an institution')
    .description('Run by the institution: makes a private key (encrypted with $URA_KEY_PASSPHRASE) and a certificate request carrying its X-Road identifier, to send to the operator.')
    .requiredOption('--id <id>', 'AL-DEV/NJQV/L21603004L/taksat-vendore (tls-client) or AL-DEV/NJQV/L21603004L (signing)')
    .addOption(new Option('--usage <u>', "tls-client: the client system's TLS certificate; signing: the member's e-seal").choices(['tls-client', 'signing']).default('tls-client'))
    .option('--name <text>', "the institution's name (subject O)")
    .addOption(new Option('--key-type <type>', 'key type').choices(KEY_TYPES).default('ec-p256'))
    .option('--out <dir>', 'where to write <id>.<usage>.key.pem and .csr.pem', '.')
    .action(run(async () => (await import('./cert.ts')).certRequest))
  withPkiOptions(cert.command('issue'))
    .summary('issue a certificate from a CSR with the node CA')
    .description("Run by the operator: verifies the request's signature and identifier, issues a certificate with the node's CA and writes it (with the CA certificate) next to the request as <name>.cert.pem.")
    .argument('<request.csr.pem>', 'the certificate request')
    .addOption(new Option('--usage <u>', 'what the certificate is for').choices(['tls-client', 'signing', 'tls-server']).default('tls-client'))
    .addOption(new Option('--days <n>', 'validity in days').argParser(wholeNumber(1, 3650)).default(365))
    .option('--out <file>', 'where to write the certificate chain (default: next to the request)')
    .action(run(async () => (await import('./cert.ts')).certIssue))
  withPkiOptions(cert.command('revoke'))
    .summary('revoke a certificate')
    .description('Adds the certificate to the revocation list (<data>/pki/revoked.json). A running node re-reads the list within a second and refuses the certificate from then on, also on open connections.')
    .argument('<serial | cert.pem>', 'serial number of an issued certificate, or the certificate file')
    .option('--reason <text>', 'why, recorded in the revocation list', 'unspecified')
    .action(run(async () => (await import('./cert.ts')).certRevoke))
  withPkiOptions(cert.command('list'))
    .summary('list certificates with their expiry')
    .description('Lists the trusted CAs, the node certificate, member signing and client TLS certificates and every issued certificate with its expiry and state; "!" marks certificates expiring within 30 days.')
    .option('--json', 'machine-readable output')
    .action(run(async () => (await import('./cert.ts')).certList))

  const log = program.command('log').description('the message log: checking and maintaining it offline')
  log.command('verify')
    .summary('check the whole message log')
    .description([
      "Walks the message log of the node configured in <dir> (default: config/demo) in order and checks every record: the hash chain (nothing removed, inserted or reordered), logged bodies against their digests, each record's inclusion proof against its batch signature, each signature and its certificate chain (issued to the right member, valid at signing time, up to a trusted CA).",
      'Exit code 0 when the log is sound; 1 naming the first bad record and what is wrong with it.',
    ].join('\n'))
    .option('--config <dir>', 'configuration directory (its node.log says which store to read)')
    .option('--ca <ca.pem>', "trusted CA certificate(s); default: the node's trust store (<dataDir>/pki/trust)")
    .option('--archive <dir>', 'the archive files to check before the live log (default: node.log.archiveDir, when it exists)')
    .option('--no-archive', 'check the live log alone')
    .option('--quiet', 'no progress while verifying (only the verdict)')
    .action(run(async () => (await import('./log.ts')).logVerify))
  log.command('archive')
    .summary('move old log records into an archive file')
    .description([
      'Moves the records older than --before from the start of the message log (whole batches only) into one new archive file in the archive directory: a SQLite database of the records, the batch signatures they use and their certificates, named by its first and last record (message-log-<first>-<last>.sqlite).',
      'The archive is written under a temporary name, flushed, verified (as `ura log verify` does) and renamed before its records are removed from the live log, which goes on from the last archived record. A run that stopped before the removal is completed by the next one.',
      'Exit code 0 when archived or when there was nothing to archive; 1 or 2 with a Log.* code when refused, nothing removed.',
    ].join('\n'))
    .option('--config <dir>', 'configuration directory (default: config/demo)')
    .addOption(new Option('--before <date | Nd>', 'archive the records older than this: an ISO 8601 date or time, or a number of days before now (90d)').argParser(value => cutInstant(value)).makeOptionMandatory())
    .option('--to <dir>', 'the archive directory (default: node.log.archiveDir, log-archive in the data directory)')
    .option('--ca <ca.pem>', "trusted CA certificate(s) the archive is verified against; default: the node's trust store")
    .action(run(async () => (await import('./log-archive.ts')).logArchive))
  log.command('evidence')
    .summary("write an exchange's evidence, from the log and its archives")
    .description([
      'Writes the evidence document of the exchange with this message id (as GET /evidence/{messageId} gives it, every record of the id, bodies where logged) from the archive files and the live log, for `ura verify`. An operator\'s tool: it reads the node\'s files, not the API.',
      'Exit code 0 when written; 1 when no record carries the message id.',
    ].join('\n'))
    .argument('<messageId>', 'the X-Road-Id of the exchange')
    .option('--config <dir>', 'configuration directory (default: config/demo)')
    .option('--archive <dir>', 'the archive files to look in (default: node.log.archiveDir, when it exists)')
    .option('--no-archive', 'the live log alone')
    .option('--out <file>', 'write the document to this file (default: stdout)')
    .action(run(async () => (await import('./log-archive.ts')).logEvidence))
  log.command('prune')
    .summary('remove log records past their retention')
    .description([
      "Removes the records older than node.log.retentionDays (or --days) from the start of the message log, with the batch signatures only they used. The chain of the remaining records stays verifiable: the last removed record's hash is kept as the anchor `ura log verify` starts from.",
      'Archive first (`ura log archive`) if the records must outlive the retention period.',
    ].join('\n'))
    .option('--config <dir>', 'configuration directory (default: config/demo)')
    .addOption(new Option('--days <n>', 'retention in days, 0 keeps everything (default: node.log.retentionDays)').argParser(wholeNumber(0)))
    .action(run(async () => (await import('./log.ts')).logPrune))

  program.command('audit').description('the audit trail of admin actions: checking it offline')
    .command('verify')
    .summary('check the whole audit trail')
    .description([
      "Walks the audit trail of the node configured in <dir> (default: config/demo) in order — audit.db in the data directory, or the ura_audit_* tables of the PostgreSQL log — and checks every record: the hash chain up to the chain head (nothing removed, inserted or reordered), each record's inclusion proof against its batch signature, each signature and its certificate chain up to a trusted CA.",
      'Exit code 0 when the trail is sound; 1 naming the first bad record and what is wrong with it.',
    ].join('\n'))
    .option('--config <dir>', 'configuration directory (its node.log says which store to read)')
    .option('--ca <ca.pem>', "trusted CA certificate(s); default: the node's trust store (<dataDir>/pki/trust)")
    .action(run(async () => (await import('./audit.ts')).auditVerify))

  const queue = program.command('queue').description("the running node's delivery queues, through its admin API ($URA_ADMIN_TOKEN)")
  const apiOptions = (cmd: UraCommand): UraCommand => cmd
    .option('--config <dir>', 'configuration directory: where the admin API listens (node.admin) and whom to trust (default: config/demo)')
    .option('--admin <url>', 'the admin API, https://host:port (default: node.admin.listen of the configuration)')
    .option('--ca <ca.pem>', "CA certificate(s) the admin API's TLS certificate chains to (default: the node's trust store)")
    .option('--json', 'machine-readable output')
  apiOptions(queue.command('list'))
    .summary('list the delivery queues with their jobs per state')
    .description([
      'Lists every delivery queue of the node (svc.<service> for store-and-forward, sub.<id> for subscriptions) with its jobs counted per state (queued, active, retry, delivered, dead) and the age of its oldest waiting job.',
      'Calls the admin API with the operator token in $URA_ADMIN_TOKEN; a member-scoped operator sees its own member\'s queues. Exit code 1 when the admin API refuses or cannot be reached.',
    ].join('\n'))
    .action(run(async () => (await import('./queue.ts')).queueList))
  apiOptions(queue.command('jobs'))
    .summary("list a delivery queue's jobs, oldest first")
    .description("Lists a queue's jobs (id, state, attempts, when created, last error), oldest first, never their payloads. --state dead lists the dead letters.")
    .argument('<queue>', 'the queue, e.g. svc.AL-DEV/NJQV/L21603004L/taksat-vendore/njoftime')
    .addOption(new Option('--state <state>', 'jobs in this state only').choices(['queued', 'active', 'retry', 'delivered', 'dead']))
    .addOption(new Option('--limit <n>', 'at most this many (default 50)').argParser(wholeNumber(1, 500)))
    .action(run(async () => (await import('./queue.ts')).queueJobs))
  apiOptions(queue.command('show'))
    .summary('show one job of a delivery queue')
    .description('Prints one job as JSON; its payload and result (base64) only when the operator may read message bodies (log.bodies).')
    .argument('<queue>', 'the queue')
    .argument('<id>', "the job's id (store-and-forward: the client id, a space, the X-Road-Id; quote it)")
    .action(run(async () => (await import('./queue.ts')).queueShow))
  apiOptions(queue.command('redrive'))
    .summary("put a delivery queue's dead jobs back to queued")
    .description([
      'Puts the dead jobs named (or, with no ids, every dead job of the queue) back to queued with their attempts reset; the node delivers them again.',
      'A change: it needs --reason, and the admin API records it in the audit trail (queue.redrive). System administrators only.',
    ].join('\n'))
    .argument('<queue>', 'the queue')
    .argument('[ids...]', 'the dead jobs to re-drive (default: all of them)')
    .requiredOption('--reason <text>', 'why, recorded with the change')
    .action(run(async () => (await import('./queue.ts')).queueRedrive))

  program.command('verify')
    .summary('verify an evidence document offline')
    .description([
      "Verifies an evidence document (from GET /evidence/{messageId}) with nothing but the file and the CA certificate: each record's content and body digest, its inclusion proof, the batch signature, the signer's certificate chain up to the CA (valid at signing time, issued to the member that must sign: the client's member for a request, the provider's for a response), and that the response answers the request (same request hash).",
      'Exit code 0 when valid, 1 listing every problem, 2 when the input cannot be read.',
    ].join('\n'))
    .argument('<evidence.json>', 'the evidence document')
    .requiredOption('--ca <ca.pem>', 'trusted CA certificate(s)')
    .action(run(async () => (await import('./log.ts')).verifyEvidenceFile))

  program.command('totp')
    .summary('print the current code of a console TOTP secret')
    .description([
      'Prints the six-digit code an authenticator app shows now for <secret> (RFC 6238: SHA-1, 30-second steps), as the console\'s sign-in asks for it.',
      'For the demo operators (their secrets are in docs/console.md) and for scripts; a person adds the secret to an authenticator app instead.',
    ].join('\n'))
    .argument('<secret>', 'the base32 TOTP secret', totpSecret)
    .addOption(new Option('--at <time>', 'the code at this ISO 8601 time instead of now').argParser(instant))
    .action(run(async () => (await import('./totp.ts')).totp))

  return program
}

/** `ura <args>`, in this process: the exit code (2 for a usage error), -1 while `ura start` runs. */
export function main (args: string[]): Promise<number> {
  return runProgram(buildProgram(), args)
}

/** The command line: this process's arguments, its exit code. */
export async function runCli (): Promise<void> {
  const code = await main(process.argv.slice(2))
  if (code !== -1) process.exitCode = code
}

if (import.meta.main) await runCli()
