# Debian packages for the IT department: `cmake --build --preset release --target package`
# writes two .deb files into the build folder, one per install component:
#   ergon   the client (`ergon`) for the directorates' laptops
#   ergond  the server (`ergond`) with its systemd units, system user and nightly backup
# Each carries the reference data in its own folder, /usr/share/<package>/data, where
# default_reference_dir() (shared/model/reference.cpp) looks next to an installed binary, so
# neither needs --reference and both install side by side on one machine.
# tests/packaging/check_packages.sh builds and inspects them (ctest: packages_build_and_verify).

set(ERGON_PACKAGE_MAINTAINER
    "Ergon maintainers <maintainers@users.noreply.r-seed-71076982.example>"
    CACHE STRING "Maintainer field of the .deb packages (Name <email>)")

set(packaging_dir "${PROJECT_SOURCE_DIR}/packaging")

# --- What goes where (relative to CPACK_PACKAGING_INSTALL_PREFIX, /usr) ------------------------

install(TARGETS ergon RUNTIME DESTINATION bin COMPONENT ergon)
install(TARGETS ergond RUNTIME DESTINATION bin COMPONENT ergond)

# Each binary must run alone on its machine, so each package has the data; in folders of their
# own, so that dpkg installs both on one machine without either overwriting the other's files.
foreach(component ergon ergond)
  install(DIRECTORY "${PROJECT_SOURCE_DIR}/data/" DESTINATION share/${component}/data
          COMPONENT ${component})
  install(FILES "${PROJECT_SOURCE_DIR}/README.md" DESTINATION share/doc/${component}
          COMPONENT ${component})
endforeach()

# lib/systemd/system under /usr: the vendor unit folder (Debian 12 is merged-/usr, so this is
# also /lib/systemd/system); admins override in /etc/systemd/system as usual.
install(FILES "${packaging_dir}/systemd/ergond.service"
              "${packaging_dir}/systemd/ergond-backup.service"
              "${packaging_dir}/systemd/ergond-backup.timer"
        DESTINATION lib/systemd/system COMPONENT ergond)
install(FILES "${packaging_dir}/systemd/ergond.sysusers" DESTINATION lib/sysusers.d
        RENAME ergond.conf COMPONENT ergond)
install(FILES "${packaging_dir}/systemd/ergond.tmpfiles" DESTINATION lib/tmpfiles.d
        RENAME ergond.conf COMPONENT ergond)

# --- CPack ------------------------------------------------------------------------------------

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "ergon")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "${ERGON_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
# Installed binaries carry no debug info: a RelWithDebInfo ergon is ~95 MB unstripped.
set(CPACK_STRIP_FILES TRUE)
# Only these two; anything installed without a component would otherwise make a third package.
set(CPACK_COMPONENTS_ALL ergon ergond)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING IGNORE)  # one package per component

set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${ERGON_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # ergon_0.1.0-1_amd64.deb, ergond_0.1.0-1_amd64.deb
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The maintainer scripts are 0755 in the package whatever the checkout's file modes are.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

set(CPACK_DEBIAN_ERGON_PACKAGE_NAME ergon)
set(CPACK_DEBIAN_ERGON_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_ERGON_DESCRIPTION
    "Ergon client for the municipal Technical Programme
Ergon keeps a Greek municipality's Technical Programme (the yearly programme
of public works: proposals, budgets, funding sources, stages) on each
directorate's laptop. The ergon command edits the programme offline, imports
and exports spreadsheets, prints reports and syncs with the municipality's
ergond server over TLS.")
# PDF reports are printed by a headless Chromium in the DejaVu fonts; everything else works
# without them, hence Recommends rather than Depends.
set(CPACK_DEBIAN_ERGON_PACKAGE_RECOMMENDS "chromium, fonts-dejavu-core")

set(CPACK_DEBIAN_ERGOND_PACKAGE_NAME ergond)
set(CPACK_DEBIAN_ERGOND_PACKAGE_SECTION net)
set(CPACK_DEBIAN_ERGOND_DESCRIPTION
    "Ergon server for the municipal Technical Programme
Ergon keeps a Greek municipality's Technical Programme (the yearly programme
of public works) in one master copy. ergond merges the directorates' offline
changes, keeps a tamper-evident audit chain and enrols their devices. This
package runs it as the systemd service ergond under the system user ergon,
with its data in /var/lib/ergon and a nightly backup timer.")
set(CPACK_DEBIAN_ERGOND_PACKAGE_CONTROL_EXTRA
    "${packaging_dir}/debian/ergond/postinst"
    "${packaging_dir}/debian/ergond/prerm"
    "${packaging_dir}/debian/ergond/postrm")
# postinst makes the user with systemd-sysusers where systemd is installed, else with adduser.
set(ergond_tool_depends "adduser | systemd")

# Library dependencies: dpkg-shlibdeps reads them off the binaries (with the minimum versions
# the symbols need), so they stay right as the code links new libraries. Without it (a build
# host that is not Debian-like) the Debian 12 names are declared by hand, as readelf -d lists
# them. Looked for when configuring: the packages are made on the host that configured.
find_program(ERGON_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(ERGON_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  set(CPACK_DEBIAN_ERGOND_PACKAGE_DEPENDS "${ergond_tool_depends}")
else()
  message(STATUS "dpkg-shlibdeps not found: the .deb packages declare Debian 12's library names")
  set(common_libs
      "libc6, libgcc-s1, libstdc++6, libsqlite3-0, libssl3, libprotobuf32, libzstd1, libutf8proc2")
  set(CPACK_DEBIAN_ERGON_PACKAGE_DEPENDS "${common_libs}, libxlsxwriter4")
  set(CPACK_DEBIAN_ERGOND_PACKAGE_DEPENDS "${common_libs}, ${ergond_tool_depends}")
endif()

# `package_source` is not how Ergon ships, but keep it from archiving build trees and .git.
set(CPACK_SOURCE_IGNORE_FILES "/build/" "/\\\\.git/")

include(CPack)
