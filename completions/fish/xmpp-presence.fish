# fish completion for xmpp-presence(1); options as in man/xmpp-presence.1 (checked by tests/lint/test-man).

# Account names: the [sections] of the config file given with -c/--config, else of
# $XDG_CONFIG_HOME/xmpp-utils/config (~/.config/xmpp-utils/config).
function __xmpp_presence_accounts
    set -l conf
    set -l args (commandline -opc)
    set -l i 1
    while test $i -le (count $args)
        switch $args[$i]
            case -c --config
                set i (math $i + 1)
                test $i -le (count $args); and set conf $args[$i]
            case '--config=*'
                set conf (string replace -- --config= '' $args[$i])
            case '-c?*'
                set conf (string sub -s 3 -- $args[$i])
        end
        set i (math $i + 1)
    end
    if test -z "$conf"
        if string match -q -- '/*' "$XDG_CONFIG_HOME"
            set conf $XDG_CONFIG_HOME/xmpp-utils/config
        else
            set conf $HOME/.config/xmpp-utils/config
        end
    end
    set conf (string replace -r -- '^~/' "$HOME/" $conf)
    test -f "$conf"; and test -r "$conf"; or return 0
    string replace -rf -- '^\s*\[\s*([^\]\s]+)\s*\].*$' '$1' <$conf
end

set -l mechs SCRAM-SHA-512-PLUS SCRAM-SHA-512 SCRAM-SHA-256-PLUS SCRAM-SHA-256 SCRAM-SHA-1-PLUS SCRAM-SHA-1 PLAIN
set -l verbs set get check

complete -c xmpp-presence -f
complete -c xmpp-presence -n "not __fish_seen_subcommand_from $verbs" -a set -d 'Publish a presence'
complete -c xmpp-presence -n "not __fish_seen_subcommand_from $verbs" -a get -d 'Print the presence of contacts'
complete -c xmpp-presence -n "not __fish_seen_subcommand_from $verbs" -a check -d 'Exit 0 if a contact is available, 1 if not'
complete -c xmpp-presence -l show -x -a 'away chat dnd xa' -d 'set: presence show'
complete -c xmpp-presence -l status -x -d 'set: presence status text'
complete -c xmpp-presence -l priority -x -d 'Presence priority (-128..127)'
complete -c xmpp-presence -l to -x -d 'set: directed presence to JID only'
complete -c xmpp-presence -l stay -d 'set: stay online (--stay=SECONDS, or until a signal)'
complete -c xmpp-presence -l wait -x -d 'get, check: wait up to SECONDS for the contacts'
complete -c xmpp-presence -s f -l format -x -a 'text json xml' -d 'Record format'
complete -c xmpp-presence -l color -x -a 'auto always never' -d 'Colour in text output (auto: on a terminal, unless NO_COLOR)'
complete -c xmpp-presence -l print -d 'check: also print what was found'
complete -c xmpp-presence -s j -l jid -x -d 'Account JID'
complete -c xmpp-presence -s a -l account -x -a '(__xmpp_presence_accounts)' -d 'Account from the config file'
complete -c xmpp-presence -l password-file -r -F -d 'Read the password from FILE'
complete -c xmpp-presence -l password-command -x -a '(__fish_complete_command)' -d 'Password from the first line CMD prints'
complete -c xmpp-presence -l password-fd -x -d 'Read the password from the first line of file descriptor N'
complete -c xmpp-presence -l host -x -a '(__fish_print_hostnames)' -d 'Connect to HOST instead of DNS SRV'
complete -c xmpp-presence -s p -l port -x -d Port
complete -c xmpp-presence -l direct-tls -d 'TLS from the first byte (XEP-0368)'
complete -c xmpp-presence -l cafile -r -F -d 'Trust the CAs in FILE'
complete -c xmpp-presence -l pin -x -a 'sha256:' -d 'Also require this SPKI pin'
complete -c xmpp-presence -l insecure -d 'Do not verify the certificate'
complete -c xmpp-presence -l allow-plaintext -d 'Accept a server without STARTTLS'
complete -c xmpp-presence -s r -l resource -x -d 'Resource to bind'
complete -c xmpp-presence -l timeout -x -d 'Deadline for each step (seconds)'
complete -c xmpp-presence -l mechanism -x -a "$mechs" -d 'Force a SASL mechanism'
complete -c xmpp-presence -l no-cache -d 'Neither read nor write the per-account cache'
complete -c xmpp-presence -s v -l verbose -d 'Print connection steps'
complete -c xmpp-presence -l debug -d 'Print the XML trace, secrets redacted'
complete -c xmpp-presence -s c -l config -r -F -d 'Config file'
complete -c xmpp-presence -s h -l help -d 'Print help and exit'
complete -c xmpp-presence -l usage -d 'Print a short usage message and exit'
complete -c xmpp-presence -s V -l version -d 'Print the version and exit'

# Contacts' JIDs: what `xmpp-roster list` saw last, for any account
# ($XDG_CACHE_HOME/xmpp-utils/roster.*, one JID per line).
function __xmpp_presence_jids
    set -l dir ~/.cache/xmpp-utils
    string match -q -- '/*' "$XDG_CACHE_HOME"; and set dir $XDG_CACHE_HOME/xmpp-utils
    for f in $dir/roster.*
        test -f $f -a -r $f; and cat -- $f
    end
end
complete -c xmpp-presence -n '__fish_seen_subcommand_from get check; and not string match -q -- "-*" (commandline -ct)' -f -a '(__xmpp_presence_jids)' -d 'Contact'
