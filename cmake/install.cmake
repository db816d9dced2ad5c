# install.cmake: `cmake --install` and `make package` (CPack, .deb): the places of contract §8.
# With the default prefix (/usr): /usr/bin/vpo; vpo.service and vpo.socket in systemd's unit
# directory; /usr/lib/sysusers.d/vpo.conf; /etc/vpo/config.toml (a conffile); the example config,
# docs and contrib examples under /usr/share/doc/vpo; bash completion; vpo(1).
include(GNUInstallDirs)
# `make build` builds what is installed (vpo, vpo(1)); installing does not build the tests.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY TRUE)

pkg_get_variable(VPO_PKG_UNIT_DIR systemd systemdsystemunitdir)
pkg_get_variable(VPO_PKG_SYSUSERS_DIR systemd sysusersdir)
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr" AND VPO_PKG_UNIT_DIR AND VPO_PKG_SYSUSERS_DIR)
  set(vpo_unit_dir_default "${VPO_PKG_UNIT_DIR}")
  set(vpo_sysusers_dir_default "${VPO_PKG_SYSUSERS_DIR}")
else()  # another prefix (/usr/local, /opt/vpo): where systemd reads an administrator's files
  set(vpo_unit_dir_default /etc/systemd/system)
  set(vpo_sysusers_dir_default /etc/sysusers.d)
endif()
# Empty: follow the prefix (re-derived at every configure, so a changed prefix is followed).
set(VPO_SYSTEMD_UNIT_DIR "" CACHE PATH "Where vpo.service goes (empty: from the prefix)")
set(VPO_SYSUSERS_DIR "" CACHE PATH "Where the sysusers.d entry goes (empty: from the prefix)")
set(vpo_unit_dir "${VPO_SYSTEMD_UNIT_DIR}")
if(NOT vpo_unit_dir)
  set(vpo_unit_dir "${vpo_unit_dir_default}")
endif()
set(vpo_sysusers_dir "${VPO_SYSUSERS_DIR}")
if(NOT vpo_sysusers_dir)
  set(vpo_sysusers_dir "${vpo_sysusers_dir_default}")
endif()

# The units name the binary and the config file: rewritten for this prefix (the checked-in ones
# say /usr/bin/vpo and /etc/vpo/config.toml, the .deb's places).
set(vpo_generated "${CMAKE_CURRENT_BINARY_DIR}/install")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             "${CMAKE_CURRENT_SOURCE_DIR}/contrib/systemd/vpo.service")
file(READ "${CMAKE_CURRENT_SOURCE_DIR}/contrib/systemd/vpo.service" vpo_unit)
string(REPLACE "/usr/bin/vpo" "${CMAKE_INSTALL_FULL_BINDIR}/vpo" vpo_unit "${vpo_unit}")
string(REPLACE "/etc/vpo/" "${CMAKE_INSTALL_FULL_SYSCONFDIR}/vpo/" vpo_unit "${vpo_unit}")
file(WRITE "${vpo_generated}/vpo.service" "${vpo_unit}")

install(TARGETS vpo RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES "${vpo_generated}/vpo.service" contrib/systemd/vpo.socket
        DESTINATION "${vpo_unit_dir}")
install(FILES contrib/systemd/vpo.sysusers DESTINATION "${vpo_sysusers_dir}" RENAME vpo.conf)
install(FILES contrib/systemd/config.toml DESTINATION "${CMAKE_INSTALL_FULL_SYSCONFDIR}/vpo")
install(FILES contrib/bash-completion/vpo
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} FILES_MATCHING PATTERN "*.md")
install(FILES contrib/config/vpo.example.toml DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(DIRECTORY contrib/elk contrib/loki contrib/kubernetes
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# vpo(1), generated from the binary's own --help (help2man, Debian package help2man).
find_program(HELP2MAN help2man)
if(HELP2MAN)
  add_custom_command(
    OUTPUT ${vpo_generated}/vpo.1.gz
    COMMAND ${HELP2MAN} --no-info --section=1 "--name=the Video Policy Orchestrator daemon"
            "--help-option=serve --help" --version-option=--version
            --include=${CMAKE_CURRENT_SOURCE_DIR}/packaging/vpo.h2m
            --output=${vpo_generated}/vpo.1 $<TARGET_FILE:vpo>
    COMMAND gzip -9nf ${vpo_generated}/vpo.1
    DEPENDS vpo ${CMAKE_CURRENT_SOURCE_DIR}/packaging/vpo.h2m
    COMMENT "vpo(1) from vpo serve --help (help2man)"
    VERBATIM)
  add_custom_target(vpo_man ALL DEPENDS ${vpo_generated}/vpo.1.gz)
  install(FILES ${vpo_generated}/vpo.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(WARNING "help2man not found: no vpo(1); scripts/ensure-deps.sh installs it")
endif()

# make package: a .deb for Debian 12 (CPack). Runtime dependencies come from dpkg-shlibdeps;
# the maintainer scripts create the user (systemd-sysusers) and reload systemd.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME vpo)
set(CPACK_PACKAGE_VENDOR "vpo")
set(CPACK_PACKAGE_CONTACT "vpo maintainers <vpo-maintainers@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Video Policy Orchestrator daemon (vpo serve)")
string(CONCAT CPACK_PACKAGE_DESCRIPTION
       "vpo serve runs the Video Policy Orchestrator as a systemd-managed daemon: it keeps a "
       "SQLite\nlibrary of video files, runs scan jobs submitted over HTTP, drains gracefully and "
       "never\nloses a job. Probes: /health, /livez, /readyz. Prometheus metrics: /metrics.")
set(CPACK_DEBIAN_PACKAGE_SECTION video)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd (>= 247), procps")  # sysusers, units; /bin/kill (ExecReload)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${CMAKE_CURRENT_SOURCE_DIR}/packaging/debian/conffiles;${CMAKE_CURRENT_SOURCE_DIR}/packaging/debian/postinst;${CMAKE_CURRENT_SOURCE_DIR}/packaging/debian/prerm;${CMAKE_CURRENT_SOURCE_DIR}/packaging/debian/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
include(CPack)
