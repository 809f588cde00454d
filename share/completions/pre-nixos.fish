# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_pre_nixos_global_optspecs
    string join \n root= state-dir= v/verbose q/quiet color= plan-only output= json= inventory= wide mode= swap-size= h/help V/version
end

function __fish_pre_nixos_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_pre_nixos_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_pre_nixos_using_subcommand
    set -l cmd (__fish_pre_nixos_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c pre-nixos -n "__fish_pre_nixos_needs_command" -l state-dir -d 'Directory of storage-status, network-status, storage-plan.json and the lock' -r -F
complete -c pre-nixos -n "__fish_pre_nixos_needs_command" -l color -d 'Colour in the log on stderr: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pre-nixos -n "__fish_pre_nixos_needs_command" -l output -d 'What to print: the one-screen summary, storage-plan.json, or disko-config.nix' -r -f -a "summary\t'One screen for people'
json\t'storage-plan.json'
disko\t'disko-config.nix'"
complete -c pre-nixos -n "__fish_pre_nixos_needs_command" -l json -d 'The same as `--output json` (`--json=short`: on one line)' -r -f -a "pretty\t''
short\t''"
complete -c pre-nixos -n "__fish_pre_nixos_needs_command" -l inventory -d 'Plan from a saved `pre-nixos inventory --json` file instead of this machine' -r -F
complete -c pre-nixos -n "__fish_pre_nixos_needs_command" -l mode -d 'fast: stripe SSD buckets; careful: mirror them. Overrides pre-nixos.mode=' -r -f -a "fast\t''
careful\t''"
complete -c pre-nixos -n "__fish_pre_nixos_needs_command" -l swap-size -d 'Swap size: 8G = 8 GiB, 8GB = 8×10⁹ bytes; at least 1G, 0 = none; it must fit. Default 2 × RAM capped at 64G. Overrides pre-nixos.swap=' -r
complete -c pre-nixos -n "__fish_pre_nixos_needs_command" -s v -l verbose -d 'More log output on stderr: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot: info and up)'
complete -c pre-nixos -n "__fish_pre_nixos_needs_command" -s q -l quiet -d 'Errors only on stderr'
complete -c pre-nixos -n "__fish_pre_nixos_needs_command" -l plan-only -d 'Print the storage plan for this machine and exit; changes nothing (same as `plan`; `boot --plan-only` is the kernel switch instead: it runs the boot, touching no disk)'
complete -c pre-nixos -n "__fish_pre_nixos_needs_command" -l wide -d 'Summary: print every line whole, each disk\'s /dev/disk/by-id path, the arrays on their own and every decision (by default it fits one screen: the terminal\'s width, 80 columns when unknown, without the paths and the logical volumes\' sizing)'
complete -c pre-nixos -n "__fish_pre_nixos_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pre-nixos -n "__fish_pre_nixos_needs_command" -s V -l version -d 'Print version'
complete -c pre-nixos -n "__fish_pre_nixos_needs_command" -f -a "boot" -d 'Run the boot flow: LAN + SSH first, then detect, plan, apply if clean, verify, status'
complete -c pre-nixos -n "__fish_pre_nixos_needs_command" -f -a "plan" -d 'Print the storage plan for this machine; changes nothing'
complete -c pre-nixos -n "__fish_pre_nixos_needs_command" -f -a "inventory" -d 'List disks and NICs, and every excluded device with the reason'
complete -c pre-nixos -n "__fish_pre_nixos_needs_command" -f -a "detect-storage" -d 'Tell whether the planned disks are clean (exit 0 existing storage, 1 clean, 2 error)'
complete -c pre-nixos -n "__fish_pre_nixos_needs_command" -f -a "apply" -d 'Create the planned layout (refuses disks that hold anything unless --wipe names them)'
complete -c pre-nixos -n "__fish_pre_nixos_needs_command" -f -a "network" -d 'Choose the LAN, rename it `lan`, enable DHCP, harden and start sshd, announce'
complete -c pre-nixos -n "__fish_pre_nixos_needs_command" -f -a "status" -d 'Show what happened: storage state, plan, verify diff, LAN, sshd, pending jobs'
complete -c pre-nixos -n "__fish_pre_nixos_needs_command" -f -a "diagnose" -d 'Collect every piece of evidence into one directory and a .tar.gz'
complete -c pre-nixos -n "__fish_pre_nixos_needs_command" -f -a "tui" -d 'Review, adjust and apply the storage plan on a terminal (serial console at 80×24)'
complete -c pre-nixos -n "__fish_pre_nixos_needs_command" -f -a "completions" -d 'Print shell completions'
complete -c pre-nixos -n "__fish_pre_nixos_needs_command" -f -a "man" -d 'Print the man page (roff), or write every page (one per subcommand) into DIR'
complete -c pre-nixos -n "__fish_pre_nixos_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand boot" -l carrier-timeout -d 'How long to wait for a carrier on any candidate NIC' -r
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand boot" -l authorized-keys -d 'Root\'s authorized keys to install (default /etc/pre-nixos/authorized_keys)' -r -F
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand boot" -l lan -d 'Use the NIC with this MAC as the LAN (overrides pre-nixos.lan=)' -r
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand boot" -l wipe -d 'Disks that may be wiped: `all` or serials separated by commas; the kernel\'s pre-nixos.wipe=, which it overrides' -r
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand boot" -l executor -d 'native (sgdisk, mdadm, lvm, mkfs; the default) or disko (builds its scripts with Nix)' -r -f -a "native\t''
disko\t''"
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand boot" -l mode -d 'fast: stripe SSD buckets; careful: mirror them. Overrides pre-nixos.mode=' -r -f -a "fast\t''
careful\t''"
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand boot" -l swap-size -d 'Swap size: 8G = 8 GiB, 8GB = 8×10⁹ bytes; at least 1G, 0 = none; it must fit. Default 2 × RAM capped at 64G. Overrides pre-nixos.swap=' -r
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand boot" -l state-dir -d 'Directory of storage-status, network-status, storage-plan.json and the lock' -r -F
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand boot" -l color -d 'Colour in the log on stderr: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand boot" -l plan-only -d 'Bring up the LAN and SSH, plan and record the plan, touch no disk: the kernel\'s pre-nixos.plan-only=1. (`pre-nixos --plan-only` without `boot` only prints the plan.)'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand boot" -l dry-run -d 'The whole flow (network, then storage) with nothing changed: print every file it would write and every command it would run, in order'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand boot" -s v -l verbose -d 'More log output on stderr: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot: info and up)'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand boot" -s q -l quiet -d 'Errors only on stderr'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand boot" -s h -l help -d 'Print help'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand plan" -l output -d 'What to print: the one-screen summary, storage-plan.json, or disko-config.nix' -r -f -a "summary\t'One screen for people'
json\t'storage-plan.json'
disko\t'disko-config.nix'"
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand plan" -l json -d 'The same as `--output json` (`--json=short`: on one line)' -r -f -a "pretty\t''
short\t''"
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand plan" -l inventory -d 'Plan from a saved `pre-nixos inventory --json` file instead of this machine' -r -F
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand plan" -l mode -d 'fast: stripe SSD buckets; careful: mirror them. Overrides pre-nixos.mode=' -r -f -a "fast\t''
careful\t''"
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand plan" -l swap-size -d 'Swap size: 8G = 8 GiB, 8GB = 8×10⁹ bytes; at least 1G, 0 = none; it must fit. Default 2 × RAM capped at 64G. Overrides pre-nixos.swap=' -r
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand plan" -l state-dir -d 'Directory of storage-status, network-status, storage-plan.json and the lock' -r -F
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand plan" -l color -d 'Colour in the log on stderr: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand plan" -l wide -d 'Summary: print every line whole, each disk\'s /dev/disk/by-id path, the arrays on their own and every decision (by default it fits one screen: the terminal\'s width, 80 columns when unknown, without the paths and the logical volumes\' sizing)'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand plan" -s v -l verbose -d 'More log output on stderr: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot: info and up)'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand plan" -s q -l quiet -d 'Errors only on stderr'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand plan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand inventory" -l json -d 'Print schema-versioned JSON (`--json=short`: on one line)' -r -f -a "pretty\t''
short\t''"
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand inventory" -l state-dir -d 'Directory of storage-status, network-status, storage-plan.json and the lock' -r -F
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand inventory" -l color -d 'Colour in the log on stderr: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand inventory" -s v -l verbose -d 'More log output on stderr: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot: info and up)'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand inventory" -s q -l quiet -d 'Errors only on stderr'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand inventory" -s h -l help -d 'Print help'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand detect-storage" -l json -d 'Print every planned disk with the reasons it is not clean, as JSON (also when detection fails: an `error` document); `--json=short`: on one line' -r -f -a "pretty\t''
short\t''"
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand detect-storage" -l plan -d 'Check the disks of this plan instead of planning this machine' -r -F
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand detect-storage" -l state-dir -d 'Directory of storage-status, network-status, storage-plan.json and the lock' -r -F
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand detect-storage" -l color -d 'Colour in the log on stderr: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand detect-storage" -s v -l verbose -d 'More log output on stderr: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot: info and up)'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand detect-storage" -s q -l quiet -d 'Errors only on stderr'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand detect-storage" -s h -l help -d 'Print help'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand apply" -l plan -d 'Apply this storage-plan.json instead of planning this machine now (its mode and swap are in the file: --mode and --swap-size next to it are an error)' -r -F
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand apply" -l executor -d 'native (sgdisk, mdadm, lvm, mkfs; the default) or disko (builds its scripts with Nix)' -r -f -a "native\t''
disko\t''"
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand apply" -l wipe -d 'Disks that may be wiped: `all` or serials separated by commas' -r
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand apply" -l wipe-method -d 'How the disks --wipe names are cleaned: signatures (the default; fast), discard (blkdiscard, SSD/NVMe) or overwrite (random data over the whole disk; slow)' -r -f -a "signatures\t''
discard\t''
overwrite\t''"
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand apply" -l json -d 'Print the outcome (and a dry run\'s commands) as JSON (`--json=short`: one line)' -r -f -a "pretty\t''
short\t''"
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand apply" -l mode -d 'fast: stripe SSD buckets; careful: mirror them. Overrides pre-nixos.mode=' -r -f -a "fast\t''
careful\t''"
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand apply" -l swap-size -d 'Swap size: 8G = 8 GiB, 8GB = 8×10⁹ bytes; at least 1G, 0 = none; it must fit. Default 2 × RAM capped at 64G. Overrides pre-nixos.swap=' -r
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand apply" -l state-dir -d 'Directory of storage-status, network-status, storage-plan.json and the lock' -r -F
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand apply" -l color -d 'Colour in the log on stderr: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand apply" -l dry-run -d 'Print every command in order and change nothing'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand apply" -s v -l verbose -d 'More log output on stderr: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot: info and up)'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand apply" -s q -l quiet -d 'Errors only on stderr'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand apply" -s h -l help -d 'Print help'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand network" -l json -d 'Print the report (and a dry run\'s actions) as JSON (`--json=short`: one line)' -r -f -a "pretty\t''
short\t''"
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand network" -l carrier-timeout -d 'How long to wait for a carrier on any candidate NIC' -r
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand network" -l authorized-keys -d 'Root\'s authorized keys to install (default /etc/pre-nixos/authorized_keys)' -r -F
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand network" -l lan -d 'Use the NIC with this MAC as the LAN (overrides pre-nixos.lan=)' -r
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand network" -l state-dir -d 'Directory of storage-status, network-status, storage-plan.json and the lock' -r -F
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand network" -l color -d 'Colour in the log on stderr: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand network" -l dry-run -d 'Show NICs, scores, the choice and the files and commands; change nothing'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand network" -s v -l verbose -d 'More log output on stderr: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot: info and up)'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand network" -s q -l quiet -d 'Errors only on stderr'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand network" -s h -l help -d 'Print help'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand status" -l json -d 'Print the report as schema-versioned JSON (`--json=short`: on one line)' -r -f -a "pretty\t''
short\t''"
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand status" -l state-dir -d 'Directory of storage-status, network-status, storage-plan.json and the lock' -r -F
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand status" -l color -d 'Colour in the log on stderr: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand status" -l brief -d 'The status files, sshd and systemd only: do not read the disks back (the verify step, which a wedged disk can hold for minutes). What the login shell runs'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand status" -s v -l verbose -d 'More log output on stderr: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot: info and up)'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand status" -s q -l quiet -d 'Errors only on stderr'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand status" -s h -l help -d 'Print help'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand diagnose" -l out -d 'Where to put the bundle (default /var/log/pre-nixos/diagnose)' -r -F
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand diagnose" -l json -d 'Print the verdict, the items and where the bundle went as JSON (`--json=short`: one line)' -r -f -a "pretty\t''
short\t''"
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand diagnose" -l state-dir -d 'Directory of storage-status, network-status, storage-plan.json and the lock' -r -F
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand diagnose" -l color -d 'Colour in the log on stderr: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand diagnose" -s v -l verbose -d 'More log output on stderr: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot: info and up)'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand diagnose" -s q -l quiet -d 'Errors only on stderr'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand diagnose" -s h -l help -d 'Print help'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand tui" -l inventory -d 'Review the plan of a saved inventory (`pre-nixos inventory --json`) instead of this machine; applying it is then refused' -r -F
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand tui" -l mode -d 'fast: stripe SSD buckets; careful: mirror them. Overrides pre-nixos.mode=' -r -f -a "fast\t''
careful\t''"
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand tui" -l swap-size -d 'Swap size: 8G = 8 GiB, 8GB = 8×10⁹ bytes; at least 1G, 0 = none; it must fit. Default 2 × RAM capped at 64G. Overrides pre-nixos.swap=' -r
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand tui" -l state-dir -d 'Directory of storage-status, network-status, storage-plan.json and the lock' -r -F
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand tui" -l color -d 'Colour in the log on stderr: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand tui" -s v -l verbose -d 'More log output on stderr: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot: info and up)'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand tui" -s q -l quiet -d 'Errors only on stderr'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand tui" -s h -l help -d 'Print help'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand completions" -l state-dir -d 'Directory of storage-status, network-status, storage-plan.json and the lock' -r -F
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand completions" -l color -d 'Colour in the log on stderr: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand completions" -s v -l verbose -d 'More log output on stderr: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot: info and up)'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand completions" -s q -l quiet -d 'Errors only on stderr'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand completions" -s h -l help -d 'Print help'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand man" -l out -r -F
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand man" -l state-dir -d 'Directory of storage-status, network-status, storage-plan.json and the lock' -r -F
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand man" -l color -d 'Colour in the log on stderr: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand man" -s v -l verbose -d 'More log output on stderr: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot: info and up)'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand man" -s q -l quiet -d 'Errors only on stderr'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand man" -s h -l help -d 'Print help'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand help; and not __fish_seen_subcommand_from boot plan inventory detect-storage apply network status diagnose tui completions man help" -f -a "boot" -d 'Run the boot flow: LAN + SSH first, then detect, plan, apply if clean, verify, status'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand help; and not __fish_seen_subcommand_from boot plan inventory detect-storage apply network status diagnose tui completions man help" -f -a "plan" -d 'Print the storage plan for this machine; changes nothing'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand help; and not __fish_seen_subcommand_from boot plan inventory detect-storage apply network status diagnose tui completions man help" -f -a "inventory" -d 'List disks and NICs, and every excluded device with the reason'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand help; and not __fish_seen_subcommand_from boot plan inventory detect-storage apply network status diagnose tui completions man help" -f -a "detect-storage" -d 'Tell whether the planned disks are clean (exit 0 existing storage, 1 clean, 2 error)'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand help; and not __fish_seen_subcommand_from boot plan inventory detect-storage apply network status diagnose tui completions man help" -f -a "apply" -d 'Create the planned layout (refuses disks that hold anything unless --wipe names them)'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand help; and not __fish_seen_subcommand_from boot plan inventory detect-storage apply network status diagnose tui completions man help" -f -a "network" -d 'Choose the LAN, rename it `lan`, enable DHCP, harden and start sshd, announce'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand help; and not __fish_seen_subcommand_from boot plan inventory detect-storage apply network status diagnose tui completions man help" -f -a "status" -d 'Show what happened: storage state, plan, verify diff, LAN, sshd, pending jobs'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand help; and not __fish_seen_subcommand_from boot plan inventory detect-storage apply network status diagnose tui completions man help" -f -a "diagnose" -d 'Collect every piece of evidence into one directory and a .tar.gz'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand help; and not __fish_seen_subcommand_from boot plan inventory detect-storage apply network status diagnose tui completions man help" -f -a "tui" -d 'Review, adjust and apply the storage plan on a terminal (serial console at 80×24)'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand help; and not __fish_seen_subcommand_from boot plan inventory detect-storage apply network status diagnose tui completions man help" -f -a "completions" -d 'Print shell completions'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand help; and not __fish_seen_subcommand_from boot plan inventory detect-storage apply network status diagnose tui completions man help" -f -a "man" -d 'Print the man page (roff), or write every page (one per subcommand) into DIR'
complete -c pre-nixos -n "__fish_pre_nixos_using_subcommand help; and not __fish_seen_subcommand_from boot plan inventory detect-storage apply network status diagnose tui completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
