# Linux packages built by CPack from the normal build (`cpack -G DEB` in the
# build folder), one per component:
#   charta-server  the sync server, charta-sim, a sandboxed systemd unit, a
#                  system user (postinst), settings in /etc/charta, data in
#                  /var/lib/charta, logs to the journal
#   charta-tablet  the tablet app with its desktop entry and icon
# The package test (tests/platforms) installs both into a throwaway root and
# syncs a charta-sim device through the installed server.
include(GNUInstallDirs)
set(CHARTA_LINUX_DIR ${PROJECT_SOURCE_DIR}/platforms/linux)

install(TARGETS charta-server charta-sim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT server)
install(FILES ${CHARTA_LINUX_DIR}/charta-server.service DESTINATION lib/systemd/system COMPONENT server)
# Absolute: /etc even though the package's prefix is /usr.
install(FILES ${CHARTA_LINUX_DIR}/server.conf DESTINATION /etc/charta
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ COMPONENT server)

install(TARGETS charta-tablet RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tablet)
install(FILES ${CHARTA_LINUX_DIR}/charta-tablet.desktop DESTINATION ${CMAKE_INSTALL_DATADIR}/applications
        COMPONENT tablet)
install(FILES ${CHARTA_LINUX_DIR}/charta-tablet.svg DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps
        COMPONENT tablet)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME charta)
set(CPACK_PACKAGE_VENDOR "Charta")
# No CPACK_PACKAGE_DESCRIPTION_SUMMARY: each package's description starts with its own synopsis.
set(CPACK_PACKAGE_CONTACT "Charta maintainers <maintainers@charta.invalid>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL server tablet)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies found by dpkg-shlibdeps from the binaries themselves.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_SERVER_PACKAGE_NAME charta-server)
set(CPACK_DEBIAN_SERVER_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_SERVER_DESCRIPTION
    "Charta sync server\nThe server that Charta tablets sync their encrypted charts with: SQLite or\nPostgreSQL store, audit chain, admin commands, and charta-sim, a headless tablet.")
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_EXTRA
    "${CHARTA_LINUX_DIR}/debian/server/postinst;${CHARTA_LINUX_DIR}/debian/server/postrm;${CHARTA_LINUX_DIR}/debian/server/conffiles")
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_TABLET_PACKAGE_NAME charta-tablet)
# QML modules are loaded at run time, so dpkg-shlibdeps cannot see them.
set(CPACK_DEBIAN_TABLET_PACKAGE_DEPENDS
    "qml6-module-qtquick, qml6-module-qtquick-controls, qml6-module-qtquick-templates, qml6-module-qtquick-layouts, qml6-module-qtquick-window, qml6-module-qtqml-workerscript, qml6-module-qtmultimedia, qml6-module-qtquick-dialogs, fonts-dejavu-core")
set(CPACK_DEBIAN_TABLET_DESCRIPTION
    "Charta tablet app\nThe nurse's app: charts kept in an encrypted local replica, synced with a\nCharta server when a network appears.")
include(CPack)
