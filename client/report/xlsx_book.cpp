#include "client/report/xlsx_book.h"

namespace ergon::client {

std::string cell_name(lxw_row_t row, lxw_col_t col) {
  std::string letters;
  for (int c = static_cast<int>(col) + 1; c > 0; c = (c - 1) / 26)
    letters.insert(letters.begin(), static_cast<char>('A' + (c - 1) % 26));
  return letters + std::to_string(row + 1);
}

Workbook::Workbook(std::filesystem::path path)
    : path_(std::move(path)), temp_(path_.string() + ".part") {
  book_ = workbook_new(temp_.c_str());
  if (!book_) return;
  auto make = [this](auto setup) {
    lxw_format* f = workbook_add_format(book_);
    setup(f);
    return f;
  };
  formats_.money = make([](lxw_format* f) { format_set_num_format(f, "#,##0.00"); });
  formats_.bold_money = make([](lxw_format* f) {
    format_set_num_format(f, "#,##0.00");
    format_set_bold(f);
  });
  formats_.bold = make([](lxw_format* f) { format_set_bold(f); });
  formats_.wrap = make([](lxw_format* f) {
    format_set_text_wrap(f);
    format_set_align(f, LXW_ALIGN_VERTICAL_TOP);
  });
  formats_.header = make([](lxw_format* f) {
    format_set_bold(f);
    format_set_text_wrap(f);
    format_set_bg_color(f, 0xE4E4EC);
    format_set_border(f, LXW_BORDER_THIN);
  });
  formats_.title = make([](lxw_format* f) {
    format_set_bold(f);
    format_set_font_size(f, 14);
  });
}

Workbook::~Workbook() {
  if (!book_) return;
  (void)workbook_close(book_);
  std::error_code ec;
  std::filesystem::remove(temp_, ec);
}

core::Status Workbook::opened() const {
  if (book_) return {};
  return core::fail(core::ErrorCode::kStorage,
                    "cannot create " + temp_ + ": check that the folder exists and is writable");
}

lxw_worksheet* Workbook::add_sheet(const std::string& name) {
  return workbook_add_worksheet(book_, name.c_str());
}

core::Status Workbook::commit() {
  lxw_error error = workbook_close(book_);
  book_ = nullptr;
  std::error_code ec;
  if (error != LXW_NO_ERROR) {
    std::filesystem::remove(temp_, ec);
    return core::fail(core::ErrorCode::kStorage,
                      "cannot write " + path_.string() + ": " + lxw_strerror(error));
  }
  std::filesystem::rename(temp_, path_, ec);
  if (ec)
    return core::fail(core::ErrorCode::kStorage,
                      "cannot write " + path_.string() + ": " + ec.message());
  return {};
}

}  // namespace ergon::client
