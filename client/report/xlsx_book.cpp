#include "client/report/xlsx_book.h"

namespace ergon::client {

std::string cell_name(lxw_row_t row, lxw_col_t col) {
  std::string letters;
  for (int c = static_cast<int>(col) + 1; c > 0; c = (c - 1) / 26)
    letters.insert(letters.begin(), static_cast<char>('A' + (c - 1) % 26));
  return letters + std::to_string(row + 1);
}

Workbook::Workbook(std::filesystem::path path) : path_(std::move(path)) {
  auto file = core::OutputFile::create(path_, core::FileMode::kShared);
  if (!file) {
    error_ = file.error().message;
    return;
  }
  file_.emplace(std::move(*file));
  book_ = workbook_new(file_->temporary().c_str());
  if (!book_) {
    error_ = "cannot create " + file_->temporary().string() +
             ": check that the folder exists and is writable";
    return;
  }
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
  (void)workbook_close(book_);  // file_ then removes the unfinished file
}

core::Status Workbook::opened() const {
  if (book_) return {};
  return core::fail(core::ErrorCode::kStorage, error_);
}

lxw_worksheet* Workbook::add_sheet(const std::string& name) {
  return workbook_add_worksheet(book_, name.c_str());
}

core::Status Workbook::commit() {
  lxw_error error = workbook_close(book_);
  book_ = nullptr;
  if (error != LXW_NO_ERROR)
    return core::fail(core::ErrorCode::kStorage,
                      "cannot write " + path_.string() + ": " + lxw_strerror(error));
  return file_->commit();
}

}  // namespace ergon::client
