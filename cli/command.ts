/**
 * What every `ura` command shares on top of commander: actions return their exit code; usage errors
 * exit 2 and commander never calls process.exit, so a command also runs in-process (tests); the help
 * lists every command by the line a user types.
 */
import { Command, CommanderError, Help, InvalidArgumentError } from 'commander'

/** Help that expands the command groups (config, cert, log): `ura --help` shows every command. */
class UraHelp extends Help {
  #listing = false

  override formatHelp (cmd: Command, helper: Help): string {
    // Only the printed list is expanded: suggestions for a mistyped command stay at the level typed.
    this.#listing = true
    try {
      return super.formatHelp(cmd, helper)
    } finally {
      this.#listing = false
    }
  }

  override visibleCommands (cmd: Command): Command[] {
    const visible = super.visibleCommands(cmd)
    if (!this.#listing) return visible
    return visible.flatMap(sub => sub.commands.length === 0 ? [sub] : this.visibleCommands(sub))
  }

  /** `ura cert issue [options] <request.csr.pem>`: the full path, as it is typed. */
  override subcommandTerm (cmd: Command): string {
    // Commander's implicit `help` command has no parent; groups have none (see runProgram), so it is the program's.
    return `${cmd.parent === null ? 'ura' : commandPath(cmd.parent)} ${super.subcommandTerm(cmd)}`
  }
}

/** The `ura` program and, through createCommand, every command under it. */
export class UraCommand extends Command {
  override createCommand (name?: string): UraCommand {
    return new UraCommand(name)
  }

  override createHelp (): Help {
    return Object.assign(new UraHelp(), this.configureHelp())
  }
}

function commandPath (cmd: Command): string {
  return cmd.parent === null ? cmd.name() : `${commandPath(cmd.parent)} ${cmd.name()}`
}

function rootOf (cmd: Command): Command {
  return cmd.parent === null ? cmd : rootOf(cmd.parent)
}

/** The empty program, to add the commands to. */
export function createProgram (): UraCommand {
  return new UraCommand('ura')
    .description('ura — interoperability gateway (X-Road REST r1 and SOAP 4.0)')
    .addHelpText('after', "\nRun 'ura <command> --help' for details.")
    .exitOverride()
}

const exitCodes = new WeakMap<Command, number>()

/** A command's handler: called with commander's action arguments (its arguments, options, command; any[] as commander types them), it returns the exit code. */
export type Handler = (...args: any[]) => Promise<number>

/**
 * An `.action()` running the handler `load` gives, from the command's module imported only when the command runs:
 * help and usage errors answer without loading the gateway. Commander discards what an action returns; the
 * exit code is kept for runProgram.
 */
export function run (load: () => Promise<Handler>): (this: Command, ...args: unknown[]) => Promise<void> {
  return async function (this: Command, ...args: unknown[]): Promise<void> {
    const handler = await load()
    exitCodes.set(rootOf(this), await handler(...args))
  }
}

/** Parses `args` (without the program name) and runs the command: its exit code, 2 for a usage error, -1 when it keeps running. */
export async function runProgram (program: UraCommand, args: string[]): Promise<number> {
  for (const cmd of [program, ...descendants(program)]) {
    if (cmd.commands.length > 0) {
      // A group answers a mistake with the list of its commands; only the program has a `help` command.
      cmd.showHelpAfterError(true)
      if (cmd !== program) cmd.helpCommand(false)
    } else {
      cmd.showHelpAfterError(`(run '${commandPath(cmd)} --help' for its usage)`)
    }
  }
  if (args.length === 0) {
    program.outputHelp()
    return 0
  }
  try {
    await program.parseAsync(args, { from: 'user' })
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2
    throw err
  }
  return exitCodes.get(program) ?? 0
}

function descendants (cmd: Command): Command[] {
  return cmd.commands.flatMap(sub => [sub, ...descendants(sub)])
}

/** An option parser for whole numbers in [min, max]: `--days 1.5` or `--days x` are usage errors naming the option. */
export function wholeNumber (min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return value => {
    const n = /^\d+$/.test(value) ? Number(value) : Number.NaN
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(max === Number.MAX_SAFE_INTEGER ? `It must be a whole number, at least ${min}.` : `It must be a whole number from ${min} to ${max}.`)
    }
    return n
  }
}
