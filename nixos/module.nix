# services.pre-nixos: run `pre-nixos boot` once at boot on a live or installer system.
#
# The unit itself comes from the package (systemd.packages), the same file the Debian VM
# harness installs, so what is tested there is what runs here. This module only adds a
# drop-in (PATH, environment, ExecStart with extra arguments), wants it from
# multi-user.target, and turns on what the tool drives: systemd-networkd (it writes
# .link/.network files and reloads networkd) and sshd (it starts it with `systemctl
# reload-or-restart --no-block` once the key is in; no ordering on pre-nixos.service, so
# neither waits for the other).
#
# How the rest of the host is run is not the module's business unless asked:
# `imagePolicy.enable` (the ISO and netboot profiles turn it on) makes networkd the only
# network manager, keeps sshd off until pre-nixos starts it, and locks sshd to keys.
#
# The key rules (well-formed keys, the warning when there is none) live in ./keys.nix,
# which `cargo test` evaluates offline.
packageFromFlake:
{
  config,
  lib,
  pkgs,
  utils,
  ...
}:

let
  cfg = config.services.pre-nixos;
  keyRules = import ./keys.nix;
  inherit (lib) mkOption types;

  fileTexts = map builtins.readFile cfg.authorizedKeysFiles;
  checks = keyRules.checks {
    inherit (cfg) enable authorizedKeys authorizedKeysFiles;
    inherit fileTexts;
  };

  bootArgs =
    lib.optionals (cfg.mode != null) [
      "--mode"
      cfg.mode
    ]
    ++ lib.optionals (cfg.swapSize != null) [
      "--swap-size"
      cfg.swapSize
    ]
    ++ lib.optionals (cfg.executor != null) [
      "--executor"
      cfg.executor
    ]
    ++ cfg.extraArgs;
in
{
  options.services.pre-nixos = {
    enable = lib.mkEnableOption ''
      pre-nixos at boot: bring up the LAN and a hardened sshd, then plan, create, verify
      and mount the storage of this machine when its disks are blank (SPEC §3.2), and
      write /run/pre-nixos/storage-status
    '';

    package = mkOption {
      type = types.package;
      default =
        if packageFromFlake != null then
          packageFromFlake pkgs
        else
          throw "services.pre-nixos.package: set it, or import the module from the pre-nixos flake";
      defaultText = lib.literalExpression "pre-nixos.packages.\${system}.pre-nixos";
      description = "The pre-nixos package; its bin/pre-nixos carries the runtime tools on its PATH.";
    };

    authorizedKeys = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOe8i1H1y9q1n1ExampleKeyOnlyx operator@laptop" ];
      description = ''
        SSH public keys (one authorized_keys line each) that may log in as root once the
        image has booted. They are written to /etc/pre-nixos/authorized_keys, which
        pre-nixos merges into /root/.ssh/authorized_keys before it starts sshd.
        A string that is not a public key fails evaluation. With no key at all, the
        build warns and the booted system keeps sshd off and says so on the console.
      '';
    };

    authorizedKeysFiles = mkOption {
      type = types.listOf types.path;
      default = [ ];
      example = lib.literalExpression "[ ./keys/operator.pub ]";
      description = ''
        Files of SSH public keys (authorized_keys format: one key per line, blank lines
        and `#` comments allowed), read at evaluation time and merged with
        {option}`services.pre-nixos.authorizedKeys`.
      '';
    };

    mode = mkOption {
      type = types.nullOr (
        types.enum [
          "fast"
          "careful"
        ]
      );
      default = null;
      example = "careful";
      description = ''
        How SSD buckets are arrayed: `fast` stripes them (RAID0), `careful` mirrors them
        (RAID1/RAID10). `null` leaves the choice to the tool (fast) and to
        `pre-nixos.mode=` on the kernel command line; a value set here is passed as
        `--mode` and wins over the kernel command line.
      '';
    };

    swapSize = mkOption {
      type = types.nullOr (types.strMatching "[0-9]+(\\.[0-9]+)?([KMGT](i?B)?|B)?");
      default = null;
      example = "16G";
      description = ''
        Swap size (`--swap-size`, e.g. `16G`). `null`: twice the RAM, capped at 64 GiB,
        or `pre-nixos.swap=` from the kernel command line.
      '';
    };

    executor = mkOption {
      type = types.nullOr (
        types.enum [
          "disko"
          "native"
        ]
      );
      default = "native";
      example = "disko";
      description = ''
        What creates the storage. `native` (the default) calls sgdisk, mdadm, LVM and
        mkfs directly: the path the VM suites prove end to end. `disko` runs the pinned
        disko (v1.13.0) from the package's PATH; disko builds its script with
        `nix-build` against `<nixpkgs>` at run time, and the image does not carry that
        build's closure, so without a binary cache the tool refuses it at the start
        (before any disk is touched) and says what is missing. `null` passes no
        `--executor` and leaves the choice to the tool.
      '';
    };

    extraArgs = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [
        "--carrier-timeout"
        "60"
      ];
      description = "More arguments for `pre-nixos boot`, after the ones the options above produce.";
    };

    report = {
      url = mkOption {
        type = types.nullOr (types.strMatching "https?://.+");
        default = null;
        example = "https://collector.example.net/pre-nixos";
        description = ''
          Where each machine POSTs its report (docs/fleet.md): once the LAN has its
          address and sshd its host keys, and once storage is final. Any HTTP endpoint
          that stores the JSON will do. HTTPS is verified; `http://` only when written
          so. `pre-nixos.report=` on the kernel command line overrides it. Written to
          /etc/pre-nixos/report.conf.
        '';
      };
      caFile = mkOption {
        type = types.nullOr types.path;
        default = null;
        example = lib.literalExpression "./fleet-ca.pem";
        description = "A private CA (PEM) the collector's certificate is checked against (curl --cacert) instead of the system bundle.";
      };
      tokenFile = mkOption {
        type = types.nullOr types.path;
        default = null;
        example = "/etc/pre-nixos/report-token";
        description = ''
          A file holding a bearer token sent as `Authorization: Bearer …` (from a 0600
          header file, never on a command line). A Nix path is copied into the
          world-readable store: give a string path to a file provisioned otherwise when
          that matters.
        '';
      };
      timeout = mkOption {
        type = types.nullOr types.ints.positive;
        default = null;
        example = 120;
        description = "Seconds each report is retried (with backoff) before it is given up; `null`: 600.";
      };
    };

    imagePolicy.enable = lib.mkEnableOption ''
      the policy of a pre-nixos boot image (the ISO and netboot profiles turn it on):
      systemd-networkd is the only network manager (no NetworkManager, no dhcpcd, no
      catch-all DHCP), so the tool's `lan` files are what configures the LAN; sshd is
      wanted by nothing (it stays off without a key, and pre-nixos starts it once the key
      is in); sshd takes keys only (no password or keyboard-interactive login, root with
      a key only) and has one ed25519 host key, so the first connection never waits on
      RSA key generation. Leave it off on a host whose network and sshd are managed
      otherwise
    '';
  };

  config = lib.mkIf cfg.enable (
    lib.mkMerge [
      {
        inherit (checks) assertions;
        warnings =
          checks.warnings
          # Two network managers on one NIC fight over it; the image policy avoids it,
          # a host of its own has to.
          ++ lib.optional (!cfg.imagePolicy.enable && (config.networking.networkmanager.enable or false)) (
            "services.pre-nixos: NetworkManager is enabled; it may take the NIC that "
            + "pre-nixos configures through systemd-networkd (set "
            + "services.pre-nixos.imagePolicy.enable, or leave the LAN NIC unmanaged)."
          );

        environment.systemPackages = [ cfg.package ];
        environment.etc."pre-nixos/authorized_keys" = {
          text = lib.concatMapStrings (k: k + "\n") checks.keys;
          mode = "0600";
        };

        # The collector report (src/report): read by pre-nixos at boot, kernel command
        # line over it.
        environment.etc."pre-nixos/report.conf" = lib.mkIf (cfg.report.url != null) {
          text = lib.concatStrings (
            [ "URL=${toString cfg.report.url}\n" ]
            ++ lib.optional (cfg.report.caFile != null) "CA_FILE=${cfg.report.caFile}\n"
            ++ lib.optional (cfg.report.tokenFile != null) "TOKEN_FILE=${cfg.report.tokenFile}\n"
            ++ lib.optional (cfg.report.timeout != null) "TIMEOUT=${toString cfg.report.timeout}\n"
          );
          mode = "0644";
        };

        systemd.packages = [ cfg.package ];
        systemd.services.pre-nixos = {
          # NixOS ignores [Install] of packaged units; this makes the .wants link.
          wantedBy = [ "multi-user.target" ];
          # The wrapper already carries the runtime tools; this PATH is for anything the
          # tool spawns through a shell and for `systemctl show` readers.
          path = cfg.package.runtimeTools or [ ];
          # An empty ExecStart= first clears the packaged one (Type=exec takes exactly one).
          serviceConfig.ExecStart = [
            ""
            # escapeSystemdExecArgs quotes and doubles `%`, so no argument turns into a
            # unit specifier.
            (utils.escapeSystemdExecArgs ([ (lib.getExe cfg.package) "boot" ] ++ bootArgs))
          ];
          # The packaged unit reaches this system unchanged except for the drop-in: no
          # restart on a configuration switch (it provisions disks; once is enough).
          restartIfChanged = false;
        }
        # disko evaluates its config with <nixpkgs>, and flake-built systems have no
        # channel. Only then: it puts the nixpkgs source into the system's closure.
        // lib.optionalAttrs (cfg.executor == "disko") {
          environment.NIX_PATH = "nixpkgs=${pkgs.path}";
        };

        # What the tool drives: it writes networkd's .link/.network files and reloads
        # networkd, and it starts sshd.
        systemd.network.enable = true;
        services.openssh.enable = true;
      }

      (lib.mkIf cfg.imagePolicy.enable {
        # Networking: networkd only, so the tool's .link/.network files are what counts.
        networking.useNetworkd = true;
        networking.useDHCP = false;
        networking.networkmanager.enable = lib.mkForce false;

        services.openssh = {
          # ed25519 only: the first connection never waits on RSA key generation.
          hostKeys = [
            {
              type = "ed25519";
              path = "/etc/ssh/ssh_host_ed25519_key";
            }
          ];
          # Installer profiles allow root password login; this image never does.
          settings = {
            PermitRootLogin = lib.mkForce "prohibit-password";
            PasswordAuthentication = lib.mkForce false;
            KbdInteractiveAuthentication = lib.mkForce false;
          };
        };
        # Wanted by nothing: with no key it must stay off, and with a key pre-nixos starts
        # it as soon as the key is in place (network and SSH before storage).
        systemd.services.sshd.wantedBy = lib.mkForce [ ];
      })
    ]
  );
}
