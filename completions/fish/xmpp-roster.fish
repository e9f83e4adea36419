# fish completion for xmpp-roster(1); options as in man/xmpp-roster.1 (checked by tests/lint/test-man).

# Account names: the [sections] of the config file given with -c/--config, else of
# $XDG_CONFIG_HOME/xmpp-utils/config (~/.config/xmpp-utils/config).
function __xmpp_roster_accounts
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
set -l verbs list add remove set subscribe unsubscribe approve deny pending export import block unblock blocked

complete -c xmpp-roster -f
complete -c xmpp-roster -n "not __fish_seen_subcommand_from $verbs" -a list -d 'Print the contacts'
complete -c xmpp-roster -n "not __fish_seen_subcommand_from $verbs" -a add -d 'Add contacts'
complete -c xmpp-roster -n "not __fish_seen_subcommand_from $verbs" -a remove -d 'Remove contacts'
complete -c xmpp-roster -n "not __fish_seen_subcommand_from $verbs" -a set -d 'Rename or regroup contacts'
complete -c xmpp-roster -n "not __fish_seen_subcommand_from $verbs" -a subscribe -d 'Ask for contacts\' presence'
complete -c xmpp-roster -n "not __fish_seen_subcommand_from $verbs" -a unsubscribe -d 'Stop receiving their presence'
complete -c xmpp-roster -n "not __fish_seen_subcommand_from $verbs" -a approve -d 'Let contacts see our presence'
complete -c xmpp-roster -n "not __fish_seen_subcommand_from $verbs" -a deny -d 'Refuse or cancel a subscription'
complete -c xmpp-roster -n "not __fish_seen_subcommand_from $verbs" -a pending -d 'Print subscription requests waiting for us'
complete -c xmpp-roster -n "not __fish_seen_subcommand_from $verbs" -a export -d 'Print the whole roster'
complete -c xmpp-roster -n "not __fish_seen_subcommand_from $verbs" -a import -d 'Make the roster match FILE'
complete -c xmpp-roster -n "not __fish_seen_subcommand_from $verbs" -a block -d 'Block JIDs (XEP-0191)'
complete -c xmpp-roster -n "not __fish_seen_subcommand_from $verbs" -a unblock -d 'Unblock JIDs'
complete -c xmpp-roster -n "not __fish_seen_subcommand_from $verbs" -a blocked -d 'Print the blocked JIDs'
complete -c xmpp-roster -n '__fish_seen_subcommand_from import' -F
complete -c xmpp-roster -s f -l format -x -a 'text json xml' -d 'Output format'
complete -c xmpp-roster -l color -x -a 'auto always never' -d 'Colour in text output (auto: on a terminal, unless NO_COLOR)'
complete -c xmpp-roster -s g -l group -x -d 'list: only GROUP; add, set: put the contact in GROUP'
complete -c xmpp-roster -l name -x -d 'add, set: the contact\'s name'
complete -c xmpp-roster -l subscribe -d 'add: also ask for the contact\'s presence'
complete -c xmpp-roster -l prune -d 'import: remove contacts that are not in the file'
complete -c xmpp-roster -s n -l dry-run -d 'import: print the changes, make none'
complete -c xmpp-roster -s j -l jid -x -d 'Account JID'
complete -c xmpp-roster -s a -l account -x -a '(__xmpp_roster_accounts)' -d 'Account from the config file'
complete -c xmpp-roster -l password-file -r -F -d 'Read the password from FILE'
complete -c xmpp-roster -l password-command -x -a '(__fish_complete_command)' -d 'Password from the first line CMD prints'
complete -c xmpp-roster -l password-fd -x -d 'Read the password from the first line of file descriptor N'
complete -c xmpp-roster -l host -x -a '(__fish_print_hostnames)' -d 'Connect to HOST instead of DNS SRV'
complete -c xmpp-roster -s p -l port -x -d Port
complete -c xmpp-roster -l direct-tls -d 'TLS from the first byte (XEP-0368)'
complete -c xmpp-roster -l cafile -r -F -d 'Trust the CAs in FILE'
complete -c xmpp-roster -l pin -x -a 'sha256:' -d 'Also require this SPKI pin'
complete -c xmpp-roster -l insecure -d 'Do not verify the certificate'
complete -c xmpp-roster -l allow-plaintext -d 'Accept a server without STARTTLS'
complete -c xmpp-roster -s r -l resource -x -d 'Resource to bind'
complete -c xmpp-roster -l timeout -x -d 'Deadline for each step (seconds)'
complete -c xmpp-roster -l mechanism -x -a "$mechs" -d 'Force a SASL mechanism'
complete -c xmpp-roster -l no-cache -d 'Neither read nor write the per-account cache'
complete -c xmpp-roster -s v -l verbose -d 'Print connection steps'
complete -c xmpp-roster -l debug -d 'Print the XML trace, secrets redacted'
complete -c xmpp-roster -s c -l config -r -F -d 'Config file'
complete -c xmpp-roster -s h -l help -d 'Print help and exit'
complete -c xmpp-roster -l usage -d 'Print a short usage message and exit'
complete -c xmpp-roster -s V -l version -d 'Print the version and exit'

# Contacts' JIDs: what `xmpp-roster list` saw last, for any account
# ($XDG_CACHE_HOME/xmpp-utils/roster.*, one JID per line).
function __xmpp_roster_jids
    set -l dir ~/.cache/xmpp-utils
    string match -q -- '/*' "$XDG_CACHE_HOME"; and set dir $XDG_CACHE_HOME/xmpp-utils
    for f in $dir/roster.*
        test -f $f -a -r $f; and cat -- $f
    end
end
complete -c xmpp-roster -n '__fish_seen_subcommand_from remove set subscribe unsubscribe approve deny block unblock; and not string match -q -- "-*" (commandline -ct)' -f -a '(__xmpp_roster_jids)' -d 'Contact'
