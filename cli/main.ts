/** `ura` — the command line of the gateway. */
import { configCheck } from './config-check.ts'
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
}

function usage (): string {
  const lines = Object.values(commands).map(c => `  ${c.usage.padEnd(42)} ${c.summary}`)
  return `ura — interoperability gateway (X-Road REST r1 and SOAP 4.0)\n\nUsage:\n${lines.join('\n')}\n\nRun 'ura <command> --help' for details.`
}

async function main (argv: string[]): Promise<number> {
  const name = argv[0] === 'config' ? `config ${argv[1] ?? ''}`.trim() : argv[0]
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
