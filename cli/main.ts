/** `ura` — the command line of the gateway. */
import { certIssue, certList, certRequest, certRevoke } from './cert.ts'
import { configCheck } from './config-check.ts'
import { init } from './init.ts'
import { PKI_OPTIONS_HELP } from './pki-args.ts'
import { start } from './start.ts'

interface Command {
  summary: string
  usage: string
  help: string
  run (args: string[]): Promise<number>
}

const commands: Record<string, Command> = {
  start: {
    summary: 'run the gateway',
    usage: 'ura start [--config <dir>] [--demo]',
    help: [
      'Starts the gateway on the configuration in <dir> (default: config/demo).',
      '  --config <dir>  configuration directory (YAML files)',
      '  --demo          also start the demo provider systems (civil registry, Tirana tax office)',
      'Stops gracefully on SIGTERM or SIGINT: stops accepting, finishes exchanges in flight.',
    ].join('\n'),
    run: start,
  },
  'config check': {
    summary: 'validate a configuration directory',
    usage: 'ura config check <dir>',
    help: 'Loads every YAML file in <dir>, checks it against the configuration schema and cross-references,\ncompiles its schemas and prints each problem with file:line and the path inside the file.\nExit code 0 when valid, 1 when not.',
    run: configCheck,
  },
  init: {
    summary: 'create the development PKI (idempotent)',
    usage: 'ura init [--data <dir>] [--config <dir>]',
    help: [
      'Creates, in <data>/pki, whatever is missing of: a development root CA (also trusted), the node\'s',
      'HTTPS certificate (localhost, 127.0.0.1, ::1), a signing key and certificate for every member of the',
      'configuration and a TLS client key and certificate for every subsystem with connection: mtls.',
      'Existing files are kept. Private keys are encrypted with $URA_KEY_PASSPHRASE (a development default',
      'with a warning when unset).',
      ...PKI_OPTIONS_HELP,
      '  --member-key <type>  ec-p256 (default), rsa-2048 or rsa-3072 for member signing keys',
    ].join('\n'),
    run: init,
  },
  'cert request': {
    summary: 'make a key and a CSR for an institution',
    usage: 'ura cert request --id <id> [--usage …]',
    help: [
      'Run by the institution: makes a private key (encrypted with $URA_KEY_PASSPHRASE) and a certificate',
      'request carrying its X-Road identifier, to send to the operator.',
      '  --id <id>          AL-DEV/NJQV/L21603004L/taksat-vendore (tls-client) or AL-DEV/NJQV/L21603004L (signing)',
      '  --usage <u>        tls-client (default): the client system\'s TLS certificate; signing: the member\'s e-seal',
      '  --name <text>      the institution\'s name (subject O)',
      '  --key-type <type>  ec-p256 (default), rsa-2048 or rsa-3072',
      '  --out <dir>        where to write <id>.<usage>.key.pem and .csr.pem (default: .)',
    ].join('\n'),
    run: certRequest,
  },
  'cert issue': {
    summary: 'issue a certificate from a CSR with the node CA',
    usage: 'ura cert issue <request.csr.pem> [--usage …]',
    help: [
      'Run by the operator: verifies the request\'s signature and identifier, issues a certificate with the',
      'node\'s CA and writes it (with the CA certificate) next to the request as <name>.cert.pem.',
      '  --usage <u>   tls-client (default), signing or tls-server',
      '  --days <n>    validity in days (default 365)',
      '  --out <file>  where to write the certificate chain',
      ...PKI_OPTIONS_HELP,
    ].join('\n'),
    run: certIssue,
  },
  'cert revoke': {
    summary: 'revoke a certificate',
    usage: 'ura cert revoke <serial | cert.pem>',
    help: [
      'Adds the certificate to the revocation list (<data>/pki/revoked.json). A running node re-reads the',
      'list within a second and refuses the certificate from then on, also on open connections.',
      ...PKI_OPTIONS_HELP,
    ].join('\n'),
    run: certRevoke,
  },
  'cert list': {
    summary: 'list certificates with their expiry',
    usage: 'ura cert list [--json]',
    help: [
      'Lists the trusted CAs, the node certificate, member signing and client TLS certificates and every',
      'issued certificate with its expiry and state; "!" marks certificates expiring within 30 days.',
      '  --json  machine-readable output',
      ...PKI_OPTIONS_HELP,
    ].join('\n'),
    run: certList,
  },
}

function usage (): string {
  const lines = Object.values(commands).map(c => `  ${c.usage.padEnd(42)} ${c.summary}`)
  return `ura — interoperability gateway (X-Road REST r1 and SOAP 4.0)\n\nUsage:\n${lines.join('\n')}\n\nRun 'ura <command> --help' for details.`
}

async function main (argv: string[]): Promise<number> {
  const name = argv[0] === 'config' ? `config ${argv[1] ?? ''}`.trim() : commands[`${argv[0]} ${argv[1]}`] !== undefined ? `${argv[0]} ${argv[1]}` : argv[0]
  const rest = argv.slice(name === undefined ? 0 : name.split(' ').length)
  const command = name === undefined ? undefined : commands[name]
  if (command === undefined) {
    const asked = name === undefined || name === '--help' || name === '-h' || name === 'help'
    ;(asked ? console.log : console.error)(usage())
    return asked ? 0 : 2
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`Usage: ${command.usage}\n\n${command.help}`)
    return 0
  }
  return command.run(rest)
}


const code = await main(process.argv.slice(2))
if (code !== -1) process.exitCode = code
