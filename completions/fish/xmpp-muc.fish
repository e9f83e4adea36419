# fish completion for xmpp-muc(1); options as in man/xmpp-muc.1 (checked by tests/lint/test-man).

# Account names: the [sections] of the config file given with -c/--config, else of
# $XDG_CONFIG_HOME/xmpp-utils/config (~/.config/xmpp-utils/config).
function __xmpp_muc_accounts
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
set -l verbs send join info list config occupants subject history create destroy invite kick ban role affiliation

complete -c xmpp-muc -f
complete -c xmpp-muc -n "not __fish_seen_subcommand_from $verbs" -a send -d 'Send a message to rooms, confirmed by each room'
complete -c xmpp-muc -n "not __fish_seen_subcommand_from $verbs" -a join -d 'Stay in a room and print its messages'
complete -c xmpp-muc -n "not __fish_seen_subcommand_from $verbs" -a info -d 'Show a room\'s name, description, features'
complete -c xmpp-muc -n "not __fish_seen_subcommand_from $verbs" -a list -d 'List the rooms of a chat service'
complete -c xmpp-muc -n "not __fish_seen_subcommand_from $verbs" -a config -d 'Show or change a room\'s configuration'
complete -c xmpp-muc -n "not __fish_seen_subcommand_from $verbs" -a occupants -d 'List who is in a room'
complete -c xmpp-muc -n "not __fish_seen_subcommand_from $verbs" -a subject -d 'Show or set a room\'s subject'
complete -c xmpp-muc -n "not __fish_seen_subcommand_from $verbs" -a history -d 'Print a room\'s recent messages'
complete -c xmpp-muc -n "not __fish_seen_subcommand_from $verbs" -a create -d 'Create a room, with a configuration'
complete -c xmpp-muc -n "not __fish_seen_subcommand_from $verbs" -a destroy -d 'Destroy a room'
complete -c xmpp-muc -n "not __fish_seen_subcommand_from $verbs" -a invite -d 'Invite someone to a room'
complete -c xmpp-muc -n "not __fish_seen_subcommand_from $verbs" -a kick -d 'Remove an occupant'
complete -c xmpp-muc -n "not __fish_seen_subcommand_from $verbs" -a ban -d 'Ban a JID from a room'
complete -c xmpp-muc -n "not __fish_seen_subcommand_from $verbs" -a role -d 'Set an occupant\'s role'
complete -c xmpp-muc -n "not __fish_seen_subcommand_from $verbs" -a affiliation -d 'Set a JID\'s affiliation'
complete -c xmpp-muc -s f -l format -x -a 'text json xml' -d 'Output format'
complete -c xmpp-muc -l color -x -a 'auto always never' -d 'Colour in text output (auto: on a terminal, unless NO_COLOR)'
complete -c xmpp-muc -l config -x -a 'name= description= persistent= members-only= moderated= public= password= max-users= subject-change=' -d 'create: configure KEY=VALUE'
complete -c xmpp-muc -l set -x -d 'config: change KEY=VALUE; subject: the new subject'
complete -c xmpp-muc -l reason -x -d 'The reason given'
complete -c xmpp-muc -l direct -d 'invite: directly to the invitee (XEP-0249)'
complete -c xmpp-muc -l max -x -d 'history: at most N messages'
complete -c xmpp-muc -l since -x -d 'history: only messages since TIME'
complete -c xmpp-muc -s m -l message -x -d 'send: message text (default: stdin)'
complete -c xmpp-muc -l lines -d 'send: each line of stdin is a message'
complete -c xmpp-muc -l nick -x -d 'Nickname in the room'
complete -c xmpp-muc -l room-password -x -d 'The room\'s password (better: $XMPP_ROOM_PASSWORD)'
complete -c xmpp-muc -l no-rename -d 'Fail when the nickname is in use'
complete -c xmpp-muc -s j -l jid -x -d 'Account JID'
complete -c xmpp-muc -s a -l account -x -a '(__xmpp_muc_accounts)' -d 'Account from the config file'
complete -c xmpp-muc -l password-file -r -F -d 'Read the password from FILE'
complete -c xmpp-muc -l password-command -x -a '(__fish_complete_command)' -d 'Password from the first line CMD prints'
complete -c xmpp-muc -l password-fd -x -d 'Read the password from the first line of file descriptor N'
complete -c xmpp-muc -l host -x -a '(__fish_print_hostnames)' -d 'Connect to HOST instead of DNS SRV'
complete -c xmpp-muc -s p -l port -x -d Port
complete -c xmpp-muc -l direct-tls -d 'TLS from the first byte (XEP-0368)'
complete -c xmpp-muc -l cafile -r -F -d 'Trust the CAs in FILE'
complete -c xmpp-muc -l pin -x -a 'sha256:' -d 'Also require this SPKI pin'
complete -c xmpp-muc -l insecure -d 'Do not verify the certificate'
complete -c xmpp-muc -l allow-plaintext -d 'Accept a server without STARTTLS'
complete -c xmpp-muc -s r -l resource -x -d 'Resource to bind'
complete -c xmpp-muc -l timeout -x -d 'Deadline for each step (seconds)'
complete -c xmpp-muc -l mechanism -x -a "$mechs" -d 'Force a SASL mechanism'
complete -c xmpp-muc -l no-cache -d 'Neither read nor write the per-account cache'
complete -c xmpp-muc -s v -l verbose -d 'Print connection steps'
complete -c xmpp-muc -l debug -d 'Print the XML trace, secrets redacted'
complete -c xmpp-muc -s c -l config -r -F -d 'Config file'
complete -c xmpp-muc -s h -l help -d 'Print help and exit'
complete -c xmpp-muc -l usage -d 'Print a short usage message and exit'
complete -c xmpp-muc -s V -l version -d 'Print the version and exit'
