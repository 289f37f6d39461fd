// The one place serval includes Boost.Asio/Beast. Boost 1.74's
// asio/awaitable.hpp uses std::exchange without including <utility>, so
// <utility> must come first; every file of the HTTP frontend includes this
// header instead of Boost directly.
#ifndef SERVAL_FRONTEND_HTTP_ASIO_H_
#define SERVAL_FRONTEND_HTTP_ASIO_H_

// clang-format off
#include <utility>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
// clang-format on

namespace serval::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
}  // namespace serval::http

#endif  // SERVAL_FRONTEND_HTTP_ASIO_H_
