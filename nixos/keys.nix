# Checks on SSH public keys given to services.pre-nixos, written with builtins only so
# that `cargo test` can evaluate them with Debian's nix-instantiate and no nixpkgs.
#
# A line of authorized_keys is `[options ]<type> <base64>[ comment]`. We accept the key
# types OpenSSH accepts for user keys (plain and certificates; not ssh-dss, which
# OpenSSH refuses) and require the base64 blob to follow the type; anything else (a
# private key, a fingerprint, a path, a key broken over two lines) is malformed.
# Options must be ones sshd knows, with quoted values. Leading blanks and a trailing CR
# (CRLF files) are allowed, as sshd allows them.
#
# These are the rules of the runtime parser too (src/network/ssh.rs, parse_key_line:
# same type and option lists); tests/fixtures/authorized_keys/corpus.txt is run
# against both. The runtime also decodes the base64 and checks the type inside it,
# which builtins cannot do.
let
  keyTypes = [
    "ssh-ed25519"
    "ssh-rsa"
    "ecdsa-sha2-nistp256"
    "ecdsa-sha2-nistp384"
    "ecdsa-sha2-nistp521"
    "sk-ssh-ed25519@openssh.com"
    "sk-ecdsa-sha2-nistp256@openssh.com"
    "ssh-ed25519-cert-v01@openssh.com"
    "ssh-rsa-cert-v01@openssh.com"
    "ecdsa-sha2-nistp256-cert-v01@openssh.com"
    "ecdsa-sha2-nistp384-cert-v01@openssh.com"
    "ecdsa-sha2-nistp521-cert-v01@openssh.com"
    "sk-ssh-ed25519-cert-v01@openssh.com"
    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com"
  ];
  escape = builtins.replaceStrings [ "." "+" ] [ "\\." "\\+" ];
  typeAlternatives = builtins.concatStringsSep "|" (map escape keyTypes);
  # The options sshd(8) knows (AUTHORIZED_KEYS FILE FORMAT); a word it does not know
  # makes sshd ignore the whole line, so it is malformed here too.
  optionNames = [
    "agent-forwarding"
    "cert-authority"
    "command"
    "environment"
    "expiry-time"
    "from"
    "no-agent-forwarding"
    "no-port-forwarding"
    "no-pty"
    "no-touch-required"
    "no-user-rc"
    "no-X11-forwarding"
    "permitlisten"
    "permitopen"
    "port-forwarding"
    "principals"
    "pty"
    "restrict"
    "tunnel"
    "user-rc"
    "verify-required"
    "X11-forwarding"
  ];
  # A value is double-quoted; inside, a backslash escapes the next character.
  option = "(${builtins.concatStringsSep "|" optionNames})(=\"([^\"\\]|\\\\.)*\")?";
  options = "${option}(,${option})*";
  keyPattern = "[ \t]*(${options}[ \t]+)?(${typeAlternatives})[ \t]+[A-Za-z0-9+/]+={0,3}([ \t].*)?";

  # A CRLF file's lines end in a CR; sshd ignores it, so do we.
  dropCR = line: let m = builtins.match "(.*)\r" line; in if m == null then line else builtins.head m;

  # Lines of a file that carry a key: blank lines and comments are allowed in
  # authorized_keys files and dropped here.
  keyLines =
    text:
    builtins.filter (
      line: builtins.isString line && builtins.match "[ \t]*(#.*)?" line == null
    ) (map (l: if builtins.isString l then dropCR l else l) (builtins.split "\n" text));
in
rec {
  inherit keyTypes keyLines;

  # True when `key` is one well-formed authorized_keys line.
  # A newline inside means two lines (or a key pasted broken); reject it outright.
  isValidKey =
    key:
    builtins.isString key
    && builtins.match "[^\n]*" key != null
    && builtins.match keyPattern (dropCR key) != null;

  # The entries of `keys` that are not well-formed, for the assertion message.
  invalidKeys = keys: builtins.filter (k: !(isValidKey k)) keys;

  # Keys from option strings and from files, in order, without duplicates (the tool
  # merges without duplicates too; the same key twice in the image is noise).
  mergeKeys =
    keys: texts:
    let
      all = keys ++ builtins.concatLists (map keyLines texts);
    in
    builtins.foldl' (acc: k: if builtins.elem k acc then acc else acc ++ [ k ]) [ ] all;

  # The assertions and warnings the module reports, as a pure function of its options,
  # so the rules are the same in the module and in the offline test.
  checks =
    {
      enable,
      authorizedKeys,
      authorizedKeysFiles,
      fileTexts,
    }:
    let
      badOptionKeys = invalidKeys authorizedKeys;
      badFileKeys = builtins.concatLists (
        builtins.genList (
          i:
          map (k: "${toString (builtins.elemAt authorizedKeysFiles i)}: ${k}") (
            invalidKeys (keyLines (builtins.elemAt fileTexts i))
          )
        ) (builtins.length authorizedKeysFiles)
      );
      merged = mergeKeys authorizedKeys fileTexts;
    in
    {
      assertions = [
        {
          assertion = !enable || badOptionKeys == [ ];
          message =
            "services.pre-nixos.authorizedKeys: not an SSH public key line "
            + "(expected `<type> <base64> [comment]`, type one of "
            + builtins.concatStringsSep ", " keyTypes
            + "): "
            + builtins.concatStringsSep "; " (map (k: "\"${k}\"") badOptionKeys);
        }
        {
          assertion = !enable || badFileKeys == [ ];
          message =
            "services.pre-nixos.authorizedKeysFiles: lines that are not SSH public keys: "
            + builtins.concatStringsSep "; " badFileKeys;
        }
      ];
      warnings =
        if enable && merged == [ ] then
          [
            (
              "services.pre-nixos: no SSH key given (services.pre-nixos.authorizedKeys "
              + "and authorizedKeysFiles are empty). The image boots, brings up the LAN "
              + "and provisions storage, but sshd stays off and the console says so."
            )
          ]
        else
          [ ];
      keys = merged;
    };
}
