# What `cmake --install` puts where, and the .deb CPack makes of it (cpack -G DEB).
#
#   bin/                         the commands
#   share/man/man{1,5,7}/        the pages, gzipped (-n: no timestamp, so builds are reproducible)
#   bash-completion, zsh, fish   where each shell looks for completions under this prefix
#   share/doc/xmpp-utils/        README, examples/, copyright, changelog

# Pages: compressed at build time, as Debian policy (and lintian) wants; man reads them as is.
file(GLOB XU_MAN_PAGES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/man/*.[157])
set(XU_MAN_GZ)
foreach(page ${XU_MAN_PAGES})
    get_filename_component(name ${page} NAME)
    string(REGEX REPLACE ".*\\." "" section ${name})
    set(gz ${CMAKE_BINARY_DIR}/man/${name}.gz)
    add_custom_command(OUTPUT ${gz}
                       COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
                       COMMAND gzip -9nc ${page} > ${gz}
                       DEPENDS ${page} VERBATIM)
    list(APPEND XU_MAN_GZ ${gz})
    install(FILES ${gz} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endforeach()
add_custom_target(xu-man ALL DEPENDS ${XU_MAN_GZ})

# Completions. zsh has no standard directory: Debian's zsh reads vendor-completions under /usr
# and site-functions under /usr/local, which is also where other systems' zsh looks.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    set(XU_ZSH_DEFAULT ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
else()
    set(XU_ZSH_DEFAULT ${CMAKE_INSTALL_DATADIR}/zsh/site-functions)
endif()
set(XU_BASH_COMPLETION_DIR ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
    CACHE STRING "Where bash-completion loads completions from (relative to the prefix)")
set(XU_ZSH_COMPLETION_DIR ${XU_ZSH_DEFAULT}
    CACHE STRING "A directory on zsh's $fpath (relative to the prefix)")
set(XU_FISH_COMPLETION_DIR ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d
    CACHE STRING "fish's vendor completions (relative to the prefix)")
foreach(c ${XU_COMMANDS})
    if(EXISTS ${CMAKE_SOURCE_DIR}/completions/bash/xmpp-${c})
        install(FILES ${CMAKE_SOURCE_DIR}/completions/bash/xmpp-${c}
                DESTINATION ${XU_BASH_COMPLETION_DIR})
        install(FILES ${CMAKE_SOURCE_DIR}/completions/zsh/_xmpp-${c}
                DESTINATION ${XU_ZSH_COMPLETION_DIR})
        install(FILES ${CMAKE_SOURCE_DIR}/completions/fish/xmpp-${c}.fish
                DESTINATION ${XU_FISH_COMPLETION_DIR})
    endif()
endforeach()

# Documentation.
set(XU_DOC_DIR ${CMAKE_INSTALL_DATADIR}/doc/xmpp-utils)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/packaging/copyright
        DESTINATION ${XU_DOC_DIR})
set(XU_CHANGELOG_GZ ${CMAKE_BINARY_DIR}/changelog.gz)
add_custom_command(OUTPUT ${XU_CHANGELOG_GZ}
                   COMMAND gzip -9nc ${CMAKE_SOURCE_DIR}/packaging/changelog > ${XU_CHANGELOG_GZ}
                   DEPENDS ${CMAKE_SOURCE_DIR}/packaging/changelog VERBATIM)
add_custom_target(xu-changelog ALL DEPENDS ${XU_CHANGELOG_GZ})
install(FILES ${XU_CHANGELOG_GZ} DESTINATION ${XU_DOC_DIR})
if(EXISTS ${CMAKE_SOURCE_DIR}/examples)
    # Scripts keep their mode; the rest (units, snippets) is plain data.
    install(DIRECTORY ${CMAKE_SOURCE_DIR}/examples/ DESTINATION ${XU_DOC_DIR}/examples
            USE_SOURCE_PERMISSIONS)
endif()

# The Debian package. Dependencies come from the linked libraries (dpkg-shlibdeps).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME xmpp-utils)
set(CPACK_PACKAGE_VENDOR "xmpp-utils")
set(CPACK_PACKAGE_CONTACT "xmpp-utils maintainers <maintainers@users.noreply.b-seed-2e13a962.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "small XMPP client commands for scripts and cron jobs")
# The extended description (CPack puts the summary above it as the synopsis).
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "xmpp-utils sends and receives XMPP (Jabber) messages from the shell:\n"
    "xmpp-send, xmpp-listen, xmpp-presence, xmpp-roster and xmpp-muc each\n"
    "connect, do one thing, print the result as text, JSON lines or XML, and\n"
    "exit with a documented status. TLS is verified by default, passwords\n"
    "never need to be on the command line, and xmpp-send exits 0 only once\n"
    "the server has acknowledged every message.")
string(REPLACE ";" "" CPACK_DEBIAN_PACKAGE_DESCRIPTION "${CPACK_DEBIAN_PACKAGE_DESCRIPTION}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://xmpp-utils.example/")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_STRIP_FILES ON)
# Build the package from a tree configured with -DCMAKE_INSTALL_PREFIX=/usr (scripts/package),
# so that the zsh directory above is Debian's.
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
include(CPack)
