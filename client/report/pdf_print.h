#pragma once
// A printable HTML page turned into a PDF by headless Chromium: the page's own @page rules (A4
// landscape for the official table) decide the paper, and no browser header or footer is
// added. Chromium is found as $ERGON_CHROMIUM, else `chromium`, `chromium-browser` or
// `google-chrome` on the PATH. Blocking; runs one Chromium process with its own throw-away
// profile, so several prints may run at once.

#include <chrono>
#include <filesystem>
#include <string_view>

#include "shared/core/result.h"

namespace ergon::client {

/// Writes the PDF of `html` to `out` (through a temporary file and a rename). kNotFound when
/// no Chromium is installed (the message says how to install it); kInternal naming Chromium's
/// last words when it fails or outlives `timeout`.
core::Status print_pdf(std::string_view html, const std::filesystem::path& out,
                       std::chrono::seconds timeout = std::chrono::seconds(120));

}  // namespace ergon::client
