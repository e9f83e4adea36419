# fish completion for xmpp-listen(1); options as in man/xmpp-listen.1 (checked by tests/lint/test-man).

# Account names: the [sections] of the config file given with -c/--config, else of
# $XDG_CONFIG_HOME/xmpp-utils/config (~/.config/xmpp-utils/config).
function __xmpp_listen_accounts
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

complete -c xmpp-listen -f
complete -c xmpp-listen -s f -l format -x -a 'text json xml' -d 'Record format'
complete -c xmpp-listen -l color -x -a 'auto always never' -d 'Colour in text output (auto: on a terminal, unless NO_COLOR)'
complete -c xmpp-listen -s 0 -l null -d 'End records with NUL, text bodies unescaped'
complete -c xmpp-listen -l from -x -d 'Only messages from JID'
complete -c xmpp-listen -s t -l type -x -a 'chat normal headline groupchat error' -d 'Only messages of this type'
complete -c xmpp-listen -l presence -d 'Also print presence changes'
complete -c xmpp-listen -l room -r -f -d 'Join ROOM[/NICK] and print its messages'
complete -c xmpp-listen -l room-password -r -f -d 'Password for the rooms joined with --room'
complete -c xmpp-listen -l carbons -d 'Also messages to the account\'s other clients (XEP-0280)'
complete -c xmpp-listen -l include-own -d 'With --carbons: also what other clients of the account send'
complete -c xmpp-listen -l all -d 'Also messages without a body'
complete -c xmpp-listen -s n -l count -x -d 'Exit 0 after N records'
complete -c xmpp-listen -l timeout -x -d 'Exit 0 after SECONDS'
complete -c xmpp-listen -l idle -x -d 'Exit 0 when nothing arrived for SECONDS'
complete -c xmpp-listen -l state -r -F -d 'Checkpoint in FILE; at start, first what the archive got since'
complete -c xmpp-listen -s e -l exec -x -a '(__fish_complete_command)' -d 'Run CMD for every record'
complete -c xmpp-listen -l reply -d 'Send the output of CMD back to the sender'
complete -c xmpp-listen -l priority -x -d 'Presence priority (-128..127)'
complete -c xmpp-listen -l status -x -d 'Presence status text'
complete -c xmpp-listen -l show -x -a 'away chat dnd xa' -d 'Presence show'
complete -c xmpp-listen -s j -l jid -x -d 'Account JID'
complete -c xmpp-listen -s a -l account -x -a '(__xmpp_listen_accounts)' -d 'Account from the config file'
complete -c xmpp-listen -l password-file -r -F -d 'Read the password from FILE'
complete -c xmpp-listen -l password-command -x -a '(__fish_complete_command)' -d 'Password from the first line CMD prints'
complete -c xmpp-listen -l password-fd -x -d 'Read the password from the first line of file descriptor N'
complete -c xmpp-listen -l host -x -a '(__fish_print_hostnames)' -d 'Connect to HOST instead of DNS SRV'
complete -c xmpp-listen -s p -l port -x -d Port
complete -c xmpp-listen -l direct-tls -d 'TLS from the first byte (XEP-0368)'
complete -c xmpp-listen -l cafile -r -F -d 'Trust the CAs in FILE'
complete -c xmpp-listen -l pin -x -a 'sha256:' -d 'Also require this SPKI pin'
complete -c xmpp-listen -l insecure -d 'Do not verify the certificate'
complete -c xmpp-listen -l allow-plaintext -d 'Accept a server without STARTTLS'
complete -c xmpp-listen -s r -l resource -x -d 'Resource to bind'
complete -c xmpp-listen -l connect-timeout -x -d 'Deadline for connecting and logging in (seconds)'
complete -c xmpp-listen -l mechanism -x -a "$mechs" -d 'Force a SASL mechanism'
complete -c xmpp-listen -l no-cache -d 'Neither read nor write the per-account cache'
complete -c xmpp-listen -s v -l verbose -d 'Print connection steps'
complete -c xmpp-listen -l debug -d 'Print the XML trace, secrets redacted'
complete -c xmpp-listen -s c -l config -r -F -d 'Config file'
complete -c xmpp-listen -s h -l help -d 'Print help and exit'
complete -c xmpp-listen -l usage -d 'Print a short usage message and exit'
complete -c xmpp-listen -s V -l version -d 'Print the version and exit'
