#compdef pre-nixos

autoload -U is-at-least

_pre-nixos() {
    typeset -A opt_args
    typeset -a _arguments_options
    local ret=1

    if is-at-least 5.2; then
        _arguments_options=(-s -S -C)
    else
        _arguments_options=(-s -C)
    fi

    local context curcontext="$curcontext" state line
    _arguments "${_arguments_options[@]}" : \
'--state-dir=[Directory of storage-status, network-status, storage-plan.json and the lock]:DIR:_files' \
'--color=[Colour in the log on stderr\: auto (a terminal, and NO_COLOR unset), always, never]:WHEN:(auto always never)' \
'--output=[What to print\: the one-screen summary, storage-plan.json, or disko-config.nix]:OUTPUT:((summary\:"One screen for people"
json\:"storage-plan.json"
disko\:"disko-config.nix"))' \
'(--output)--json=[The same as \`--output json\` (\`--json=short\`\: on one line)]::STYLE:(pretty short)' \
'--inventory=[Plan from a saved \`pre-nixos inventory --json\` file instead of this machine]:FILE:_files' \
'--mode=[fast\: stripe SSD buckets; careful\: mirror them. Overrides pre-nixos.mode=]:MODE:(fast careful)' \
'--swap-size=[Swap size\: 8G = 8 GiB, 8GB = 8×10⁹ bytes; at least 1G, 0 = none; it must fit. Default 2 × RAM capped at 64G. Overrides pre-nixos.swap=]:SIZE:_default' \
'*-v[More log output on stderr\: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot\: info and up)]' \
'*--verbose[More log output on stderr\: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot\: info and up)]' \
'(-v --verbose)-q[Errors only on stderr]' \
'(-v --verbose)--quiet[Errors only on stderr]' \
'--plan-only[Print the storage plan for this machine and exit; changes nothing (same as \`plan\`; \`boot --plan-only\` is the kernel switch instead\: it runs the boot, touching no disk)]' \
'--wide[Summary\: print every line whole, each disk'\''s /dev/disk/by-id path, the arrays on their own and every decision (by default it fits one screen\: the terminal'\''s width, 80 columns when unknown, without the paths and the logical volumes'\'' sizing)]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_pre-nixos_commands" \
"*::: :->pre-nixos" \
&& ret=0
    case $state in
    (pre-nixos)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:pre-nixos-command-$line[1]:"
        case $line[1] in
            (boot)
_arguments "${_arguments_options[@]}" : \
'--carrier-timeout=[How long to wait for a carrier on any candidate NIC]:SECONDS:_default' \
'--authorized-keys=[Root'\''s authorized keys to install (default /etc/pre-nixos/authorized_keys)]:FILE:_files' \
'--lan=[Use the NIC with this MAC as the LAN (overrides pre-nixos.lan=)]:MAC:_default' \
'--wipe=[Disks that may be wiped\: \`all\` or serials separated by commas; the kernel'\''s pre-nixos.wipe=, which it overrides]:all|SERIAL,…:_default' \
'--executor=[native (sgdisk, mdadm, lvm, mkfs; the default) or disko (builds its scripts with Nix)]:EXECUTOR:(native disko)' \
'--mode=[fast\: stripe SSD buckets; careful\: mirror them. Overrides pre-nixos.mode=]:MODE:(fast careful)' \
'--swap-size=[Swap size\: 8G = 8 GiB, 8GB = 8×10⁹ bytes; at least 1G, 0 = none; it must fit. Default 2 × RAM capped at 64G. Overrides pre-nixos.swap=]:SIZE:_default' \
'--state-dir=[Directory of storage-status, network-status, storage-plan.json and the lock]:DIR:_files' \
'--color=[Colour in the log on stderr\: auto (a terminal, and NO_COLOR unset), always, never]:WHEN:(auto always never)' \
'--plan-only[Bring up the LAN and SSH, plan and record the plan, touch no disk\: the kernel'\''s pre-nixos.plan-only=1. (\`pre-nixos --plan-only\` without \`boot\` only prints the plan.)]' \
'--dry-run[The whole flow (network, then storage) with nothing changed\: print every file it would write and every command it would run, in order]' \
'*-v[More log output on stderr\: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot\: info and up)]' \
'*--verbose[More log output on stderr\: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot\: info and up)]' \
'(-v --verbose)-q[Errors only on stderr]' \
'(-v --verbose)--quiet[Errors only on stderr]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(plan)
_arguments "${_arguments_options[@]}" : \
'--output=[What to print\: the one-screen summary, storage-plan.json, or disko-config.nix]:OUTPUT:((summary\:"One screen for people"
json\:"storage-plan.json"
disko\:"disko-config.nix"))' \
'(--output)--json=[The same as \`--output json\` (\`--json=short\`\: on one line)]::STYLE:(pretty short)' \
'--inventory=[Plan from a saved \`pre-nixos inventory --json\` file instead of this machine]:FILE:_files' \
'--mode=[fast\: stripe SSD buckets; careful\: mirror them. Overrides pre-nixos.mode=]:MODE:(fast careful)' \
'--swap-size=[Swap size\: 8G = 8 GiB, 8GB = 8×10⁹ bytes; at least 1G, 0 = none; it must fit. Default 2 × RAM capped at 64G. Overrides pre-nixos.swap=]:SIZE:_default' \
'--state-dir=[Directory of storage-status, network-status, storage-plan.json and the lock]:DIR:_files' \
'--color=[Colour in the log on stderr\: auto (a terminal, and NO_COLOR unset), always, never]:WHEN:(auto always never)' \
'--wide[Summary\: print every line whole, each disk'\''s /dev/disk/by-id path, the arrays on their own and every decision (by default it fits one screen\: the terminal'\''s width, 80 columns when unknown, without the paths and the logical volumes'\'' sizing)]' \
'*-v[More log output on stderr\: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot\: info and up)]' \
'*--verbose[More log output on stderr\: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot\: info and up)]' \
'(-v --verbose)-q[Errors only on stderr]' \
'(-v --verbose)--quiet[Errors only on stderr]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(inventory)
_arguments "${_arguments_options[@]}" : \
'--json=[Print schema-versioned JSON (\`--json=short\`\: on one line)]::STYLE:(pretty short)' \
'--state-dir=[Directory of storage-status, network-status, storage-plan.json and the lock]:DIR:_files' \
'--color=[Colour in the log on stderr\: auto (a terminal, and NO_COLOR unset), always, never]:WHEN:(auto always never)' \
'*-v[More log output on stderr\: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot\: info and up)]' \
'*--verbose[More log output on stderr\: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot\: info and up)]' \
'(-v --verbose)-q[Errors only on stderr]' \
'(-v --verbose)--quiet[Errors only on stderr]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(detect-storage)
_arguments "${_arguments_options[@]}" : \
'--json=[Print every planned disk with the reasons it is not clean, as JSON (also when detection fails\: an \`error\` document); \`--json=short\`\: on one line]::STYLE:(pretty short)' \
'--plan=[Check the disks of this plan instead of planning this machine]:FILE:_files' \
'--state-dir=[Directory of storage-status, network-status, storage-plan.json and the lock]:DIR:_files' \
'--color=[Colour in the log on stderr\: auto (a terminal, and NO_COLOR unset), always, never]:WHEN:(auto always never)' \
'*-v[More log output on stderr\: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot\: info and up)]' \
'*--verbose[More log output on stderr\: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot\: info and up)]' \
'(-v --verbose)-q[Errors only on stderr]' \
'(-v --verbose)--quiet[Errors only on stderr]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(apply)
_arguments "${_arguments_options[@]}" : \
'(--mode --swap-size)--plan=[Apply this storage-plan.json instead of planning this machine now (its mode and swap are in the file\: --mode and --swap-size next to it are an error)]:FILE:_files' \
'--executor=[native (sgdisk, mdadm, lvm, mkfs; the default) or disko (builds its scripts with Nix)]:EXECUTOR:(native disko)' \
'--wipe=[Disks that may be wiped\: \`all\` or serials separated by commas]:all|SERIAL,…:_default' \
'--wipe-method=[How the disks --wipe names are cleaned\: signatures (the default; fast), discard (blkdiscard, SSD/NVMe) or overwrite (random data over the whole disk; slow)]:METHOD:(signatures discard overwrite)' \
'--json=[Print the outcome (and a dry run'\''s commands) as JSON (\`--json=short\`\: one line)]::STYLE:(pretty short)' \
'--mode=[fast\: stripe SSD buckets; careful\: mirror them. Overrides pre-nixos.mode=]:MODE:(fast careful)' \
'--swap-size=[Swap size\: 8G = 8 GiB, 8GB = 8×10⁹ bytes; at least 1G, 0 = none; it must fit. Default 2 × RAM capped at 64G. Overrides pre-nixos.swap=]:SIZE:_default' \
'--state-dir=[Directory of storage-status, network-status, storage-plan.json and the lock]:DIR:_files' \
'--color=[Colour in the log on stderr\: auto (a terminal, and NO_COLOR unset), always, never]:WHEN:(auto always never)' \
'--dry-run[Print every command in order and change nothing]' \
'*-v[More log output on stderr\: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot\: info and up)]' \
'*--verbose[More log output on stderr\: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot\: info and up)]' \
'(-v --verbose)-q[Errors only on stderr]' \
'(-v --verbose)--quiet[Errors only on stderr]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(network)
_arguments "${_arguments_options[@]}" : \
'--json=[Print the report (and a dry run'\''s actions) as JSON (\`--json=short\`\: one line)]::STYLE:(pretty short)' \
'--carrier-timeout=[How long to wait for a carrier on any candidate NIC]:SECONDS:_default' \
'--authorized-keys=[Root'\''s authorized keys to install (default /etc/pre-nixos/authorized_keys)]:FILE:_files' \
'--lan=[Use the NIC with this MAC as the LAN (overrides pre-nixos.lan=)]:MAC:_default' \
'--state-dir=[Directory of storage-status, network-status, storage-plan.json and the lock]:DIR:_files' \
'--color=[Colour in the log on stderr\: auto (a terminal, and NO_COLOR unset), always, never]:WHEN:(auto always never)' \
'--dry-run[Show NICs, scores, the choice and the files and commands; change nothing]' \
'*-v[More log output on stderr\: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot\: info and up)]' \
'*--verbose[More log output on stderr\: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot\: info and up)]' \
'(-v --verbose)-q[Errors only on stderr]' \
'(-v --verbose)--quiet[Errors only on stderr]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(status)
_arguments "${_arguments_options[@]}" : \
'--json=[Print the report as schema-versioned JSON (\`--json=short\`\: on one line)]::STYLE:(pretty short)' \
'--state-dir=[Directory of storage-status, network-status, storage-plan.json and the lock]:DIR:_files' \
'--color=[Colour in the log on stderr\: auto (a terminal, and NO_COLOR unset), always, never]:WHEN:(auto always never)' \
'--brief[The status files, sshd and systemd only\: do not read the disks back (the verify step, which a wedged disk can hold for minutes). What the login shell runs]' \
'*-v[More log output on stderr\: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot\: info and up)]' \
'*--verbose[More log output on stderr\: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot\: info and up)]' \
'(-v --verbose)-q[Errors only on stderr]' \
'(-v --verbose)--quiet[Errors only on stderr]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(diagnose)
_arguments "${_arguments_options[@]}" : \
'--out=[Where to put the bundle (default /var/log/pre-nixos/diagnose)]:DIR:_files' \
'--json=[Print the verdict, the items and where the bundle went as JSON (\`--json=short\`\: one line)]::STYLE:(pretty short)' \
'--state-dir=[Directory of storage-status, network-status, storage-plan.json and the lock]:DIR:_files' \
'--color=[Colour in the log on stderr\: auto (a terminal, and NO_COLOR unset), always, never]:WHEN:(auto always never)' \
'*-v[More log output on stderr\: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot\: info and up)]' \
'*--verbose[More log output on stderr\: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot\: info and up)]' \
'(-v --verbose)-q[Errors only on stderr]' \
'(-v --verbose)--quiet[Errors only on stderr]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(tui)
_arguments "${_arguments_options[@]}" : \
'--inventory=[Review the plan of a saved inventory (\`pre-nixos inventory --json\`) instead of this machine; applying it is then refused]:FILE:_files' \
'--mode=[fast\: stripe SSD buckets; careful\: mirror them. Overrides pre-nixos.mode=]:MODE:(fast careful)' \
'--swap-size=[Swap size\: 8G = 8 GiB, 8GB = 8×10⁹ bytes; at least 1G, 0 = none; it must fit. Default 2 × RAM capped at 64G. Overrides pre-nixos.swap=]:SIZE:_default' \
'--state-dir=[Directory of storage-status, network-status, storage-plan.json and the lock]:DIR:_files' \
'--color=[Colour in the log on stderr\: auto (a terminal, and NO_COLOR unset), always, never]:WHEN:(auto always never)' \
'*-v[More log output on stderr\: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot\: info and up)]' \
'*--verbose[More log output on stderr\: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot\: info and up)]' \
'(-v --verbose)-q[Errors only on stderr]' \
'(-v --verbose)--quiet[Errors only on stderr]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(completions)
_arguments "${_arguments_options[@]}" : \
'--state-dir=[Directory of storage-status, network-status, storage-plan.json and the lock]:DIR:_files' \
'--color=[Colour in the log on stderr\: auto (a terminal, and NO_COLOR unset), always, never]:WHEN:(auto always never)' \
'*-v[More log output on stderr\: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot\: info and up)]' \
'*--verbose[More log output on stderr\: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot\: info and up)]' \
'(-v --verbose)-q[Errors only on stderr]' \
'(-v --verbose)--quiet[Errors only on stderr]' \
'-h[Print help]' \
'--help[Print help]' \
':shell:(bash elvish fish powershell zsh)' \
&& ret=0
;;
(man)
_arguments "${_arguments_options[@]}" : \
'--out=[]:DIR:_files' \
'--state-dir=[Directory of storage-status, network-status, storage-plan.json and the lock]:DIR:_files' \
'--color=[Colour in the log on stderr\: auto (a terminal, and NO_COLOR unset), always, never]:WHEN:(auto always never)' \
'*-v[More log output on stderr\: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot\: info and up)]' \
'*--verbose[More log output on stderr\: info (-v), debug (-vv), trace (-vvv); without it a command shows warnings and errors only (boot\: info and up)]' \
'(-v --verbose)-q[Errors only on stderr]' \
'(-v --verbose)--quiet[Errors only on stderr]' \
'-h[Print help]' \
'--help[Print help]' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_pre-nixos__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:pre-nixos-help-command-$line[1]:"
        case $line[1] in
            (boot)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(plan)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(inventory)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(detect-storage)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(apply)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(network)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(status)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(diagnose)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(tui)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(completions)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(man)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
}

(( $+functions[_pre-nixos_commands] )) ||
_pre-nixos_commands() {
    local commands; commands=(
'boot:Run the boot flow\: LAN + SSH first, then detect, plan, apply if clean, verify, status' \
'plan:Print the storage plan for this machine; changes nothing' \
'inventory:List disks and NICs, and every excluded device with the reason' \
'detect-storage:Tell whether the planned disks are clean (exit 0 existing storage, 1 clean, 2 error)' \
'apply:Create the planned layout (refuses disks that hold anything unless --wipe names them)' \
'network:Choose the LAN, rename it \`lan\`, enable DHCP, harden and start sshd, announce' \
'status:Show what happened\: storage state, plan, verify diff, LAN, sshd, pending jobs' \
'diagnose:Collect every piece of evidence into one directory and a .tar.gz' \
'tui:Review, adjust and apply the storage plan on a terminal (serial console at 80×24)' \
'completions:Print shell completions' \
'man:Print the man page (roff), or write every page (one per subcommand) into DIR' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'pre-nixos commands' commands "$@"
}
(( $+functions[_pre-nixos__subcmd__apply_commands] )) ||
_pre-nixos__subcmd__apply_commands() {
    local commands; commands=()
    _describe -t commands 'pre-nixos apply commands' commands "$@"
}
(( $+functions[_pre-nixos__subcmd__boot_commands] )) ||
_pre-nixos__subcmd__boot_commands() {
    local commands; commands=()
    _describe -t commands 'pre-nixos boot commands' commands "$@"
}
(( $+functions[_pre-nixos__subcmd__completions_commands] )) ||
_pre-nixos__subcmd__completions_commands() {
    local commands; commands=()
    _describe -t commands 'pre-nixos completions commands' commands "$@"
}
(( $+functions[_pre-nixos__subcmd__detect-storage_commands] )) ||
_pre-nixos__subcmd__detect-storage_commands() {
    local commands; commands=()
    _describe -t commands 'pre-nixos detect-storage commands' commands "$@"
}
(( $+functions[_pre-nixos__subcmd__diagnose_commands] )) ||
_pre-nixos__subcmd__diagnose_commands() {
    local commands; commands=()
    _describe -t commands 'pre-nixos diagnose commands' commands "$@"
}
(( $+functions[_pre-nixos__subcmd__help_commands] )) ||
_pre-nixos__subcmd__help_commands() {
    local commands; commands=(
'boot:Run the boot flow\: LAN + SSH first, then detect, plan, apply if clean, verify, status' \
'plan:Print the storage plan for this machine; changes nothing' \
'inventory:List disks and NICs, and every excluded device with the reason' \
'detect-storage:Tell whether the planned disks are clean (exit 0 existing storage, 1 clean, 2 error)' \
'apply:Create the planned layout (refuses disks that hold anything unless --wipe names them)' \
'network:Choose the LAN, rename it \`lan\`, enable DHCP, harden and start sshd, announce' \
'status:Show what happened\: storage state, plan, verify diff, LAN, sshd, pending jobs' \
'diagnose:Collect every piece of evidence into one directory and a .tar.gz' \
'tui:Review, adjust and apply the storage plan on a terminal (serial console at 80×24)' \
'completions:Print shell completions' \
'man:Print the man page (roff), or write every page (one per subcommand) into DIR' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'pre-nixos help commands' commands "$@"
}
(( $+functions[_pre-nixos__subcmd__help__subcmd__apply_commands] )) ||
_pre-nixos__subcmd__help__subcmd__apply_commands() {
    local commands; commands=()
    _describe -t commands 'pre-nixos help apply commands' commands "$@"
}
(( $+functions[_pre-nixos__subcmd__help__subcmd__boot_commands] )) ||
_pre-nixos__subcmd__help__subcmd__boot_commands() {
    local commands; commands=()
    _describe -t commands 'pre-nixos help boot commands' commands "$@"
}
(( $+functions[_pre-nixos__subcmd__help__subcmd__completions_commands] )) ||
_pre-nixos__subcmd__help__subcmd__completions_commands() {
    local commands; commands=()
    _describe -t commands 'pre-nixos help completions commands' commands "$@"
}
(( $+functions[_pre-nixos__subcmd__help__subcmd__detect-storage_commands] )) ||
_pre-nixos__subcmd__help__subcmd__detect-storage_commands() {
    local commands; commands=()
    _describe -t commands 'pre-nixos help detect-storage commands' commands "$@"
}
(( $+functions[_pre-nixos__subcmd__help__subcmd__diagnose_commands] )) ||
_pre-nixos__subcmd__help__subcmd__diagnose_commands() {
    local commands; commands=()
    _describe -t commands 'pre-nixos help diagnose commands' commands "$@"
}
(( $+functions[_pre-nixos__subcmd__help__subcmd__help_commands] )) ||
_pre-nixos__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'pre-nixos help help commands' commands "$@"
}
(( $+functions[_pre-nixos__subcmd__help__subcmd__inventory_commands] )) ||
_pre-nixos__subcmd__help__subcmd__inventory_commands() {
    local commands; commands=()
    _describe -t commands 'pre-nixos help inventory commands' commands "$@"
}
(( $+functions[_pre-nixos__subcmd__help__subcmd__man_commands] )) ||
_pre-nixos__subcmd__help__subcmd__man_commands() {
    local commands; commands=()
    _describe -t commands 'pre-nixos help man commands' commands "$@"
}
(( $+functions[_pre-nixos__subcmd__help__subcmd__network_commands] )) ||
_pre-nixos__subcmd__help__subcmd__network_commands() {
    local commands; commands=()
    _describe -t commands 'pre-nixos help network commands' commands "$@"
}
(( $+functions[_pre-nixos__subcmd__help__subcmd__plan_commands] )) ||
_pre-nixos__subcmd__help__subcmd__plan_commands() {
    local commands; commands=()
    _describe -t commands 'pre-nixos help plan commands' commands "$@"
}
(( $+functions[_pre-nixos__subcmd__help__subcmd__status_commands] )) ||
_pre-nixos__subcmd__help__subcmd__status_commands() {
    local commands; commands=()
    _describe -t commands 'pre-nixos help status commands' commands "$@"
}
(( $+functions[_pre-nixos__subcmd__help__subcmd__tui_commands] )) ||
_pre-nixos__subcmd__help__subcmd__tui_commands() {
    local commands; commands=()
    _describe -t commands 'pre-nixos help tui commands' commands "$@"
}
(( $+functions[_pre-nixos__subcmd__inventory_commands] )) ||
_pre-nixos__subcmd__inventory_commands() {
    local commands; commands=()
    _describe -t commands 'pre-nixos inventory commands' commands "$@"
}
(( $+functions[_pre-nixos__subcmd__man_commands] )) ||
_pre-nixos__subcmd__man_commands() {
    local commands; commands=()
    _describe -t commands 'pre-nixos man commands' commands "$@"
}
(( $+functions[_pre-nixos__subcmd__network_commands] )) ||
_pre-nixos__subcmd__network_commands() {
    local commands; commands=()
    _describe -t commands 'pre-nixos network commands' commands "$@"
}
(( $+functions[_pre-nixos__subcmd__plan_commands] )) ||
_pre-nixos__subcmd__plan_commands() {
    local commands; commands=()
    _describe -t commands 'pre-nixos plan commands' commands "$@"
}
(( $+functions[_pre-nixos__subcmd__status_commands] )) ||
_pre-nixos__subcmd__status_commands() {
    local commands; commands=()
    _describe -t commands 'pre-nixos status commands' commands "$@"
}
(( $+functions[_pre-nixos__subcmd__tui_commands] )) ||
_pre-nixos__subcmd__tui_commands() {
    local commands; commands=()
    _describe -t commands 'pre-nixos tui commands' commands "$@"
}

if [ "$funcstack[1]" = "_pre-nixos" ]; then
    _pre-nixos "$@"
else
    compdef _pre-nixos pre-nixos
fi
