// A Beast body type for replies: one string (the JSON, or an error)
// followed by tensor buffers (binary outputs), written with a single gather
// write so the tensor bytes are never copied into the string.
#ifndef SERVAL_FRONTEND_HTTP_GATHER_BODY_H_
#define SERVAL_FRONTEND_HTTP_GATHER_BODY_H_

#include <boost/optional.hpp>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "frontend/http/asio.h"
#include "tensor/tensor.h"

namespace serval::http {

struct GatherBody {
  struct value_type {
    std::string head;
    std::vector<TensorBuffer> tail;
  };

  static std::uint64_t size(const value_type& v) {
    std::uint64_t n = v.head.size();
    for (const TensorBuffer& b : v.tail) n += b.size();
    return n;
  }

  class writer {
   public:
    // A view of buffers_, which lives as long as the write.
    using const_buffers_type = std::span<const asio::const_buffer>;

    template <bool isRequest, class Fields>
    writer(const bhttp::header<isRequest, Fields>&, const value_type& body)
        : body_(body) {}

    void init(beast::error_code& ec) { ec = {}; }

    boost::optional<std::pair<const_buffers_type, bool>> get(
        beast::error_code& ec) {
      ec = {};
      if (done_) return boost::none;
      done_ = true;
      if (!body_.head.empty()) {
        buffers_.emplace_back(body_.head.data(), body_.head.size());
      }
      for (const TensorBuffer& b : body_.tail) {
        if (b.size() > 0) buffers_.emplace_back(b.data(), b.size());
      }
      return std::make_pair(const_buffers_type(buffers_), false);
    }

   private:
    const value_type& body_;
    absl::InlinedVector<asio::const_buffer, 4> buffers_;
    bool done_ = false;
  };
};

}  // namespace serval::http

#endif  // SERVAL_FRONTEND_HTTP_GATHER_BODY_H_
