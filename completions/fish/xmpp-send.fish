# fish completion for xmpp-send(1); options as in man/xmpp-send.1 (checked by tests/lint/test-man).

# Account names: the [sections] of the config file given with -c/--config, else of
# $XDG_CONFIG_HOME/xmpp-utils/config (~/.config/xmpp-utils/config).
function __xmpp_send_accounts
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

complete -c xmpp-send -f
complete -c xmpp-send -s m -l message -x -d 'Body text'
complete -c xmpp-send -l lines -d 'Each line of stdin is its own message'
complete -c xmpp-send -s t -l type -x -a 'chat normal headline' -d 'Message type'
complete -c xmpp-send -s s -l subject -x -d Subject
complete -c xmpp-send -l thread -x -d 'Thread id'
complete -c xmpp-send -l xml -d 'Stdin holds raw stanzas'
complete -c xmpp-send -s n -l dry-run -d 'Print the stanzas, do not connect'
complete -c xmpp-send -s j -l jid -x -d 'Account JID'
complete -c xmpp-send -s a -l account -x -a '(__xmpp_send_accounts)' -d 'Account from the config file'
complete -c xmpp-send -l password-file -r -F -d 'Read the password from FILE'
complete -c xmpp-send -l password-command -x -a '(__fish_complete_command)' -d 'Password from the first line CMD prints'
complete -c xmpp-send -l password-fd -x -d 'Read the password from the first line of file descriptor N'
complete -c xmpp-send -l host -x -a '(__fish_print_hostnames)' -d 'Connect to HOST instead of DNS SRV'
complete -c xmpp-send -s p -l port -x -d Port
complete -c xmpp-send -l direct-tls -d 'TLS from the first byte (XEP-0368)'
complete -c xmpp-send -l cafile -r -F -d 'Trust the CAs in FILE'
complete -c xmpp-send -l pin -x -a 'sha256:' -d 'Also require this SPKI pin'
complete -c xmpp-send -l insecure -d 'Do not verify the certificate'
complete -c xmpp-send -l allow-plaintext -d 'Accept a server without STARTTLS'
complete -c xmpp-send -s r -l resource -x -d 'Resource to bind'
complete -c xmpp-send -l timeout -x -d 'Deadline for each step (seconds)'
complete -c xmpp-send -l mechanism -x -a "$mechs" -d 'Force a SASL mechanism'
complete -c xmpp-send -l no-cache -d 'Neither read nor write the per-account cache'
complete -c xmpp-send -s v -l verbose -d 'Print connection steps'
complete -c xmpp-send -l debug -d 'Print the XML trace, secrets redacted'
complete -c xmpp-send -s c -l config -r -F -d 'Config file'
complete -c xmpp-send -s h -l help -d 'Print help and exit'
complete -c xmpp-send -l usage -d 'Print a short usage message and exit'
complete -c xmpp-send -s V -l version -d 'Print the version and exit'

# Contacts' JIDs: what `xmpp-roster list` saw last, for any account
# ($XDG_CACHE_HOME/xmpp-utils/roster.*, one JID per line).
function __xmpp_send_jids
    set -l dir ~/.cache/xmpp-utils
    string match -q -- '/*' "$XDG_CACHE_HOME"; and set dir $XDG_CACHE_HOME/xmpp-utils
    for f in $dir/roster.*
        test -f $f -a -r $f; and cat -- $f
    end
end
complete -c xmpp-send -n 'not string match -q -- "-*" (commandline -ct)' -f -a '(__xmpp_send_jids)' -d 'Contact'
