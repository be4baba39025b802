// Node-API addon: float32 NHWC training kernels on oneDNN (Debian libdnnl-dev), for the
// 'onednn' TensorFlow.js backend (src/runtime/native-kernels.ts).
//
// Every function works in place on typed arrays that JavaScript allocates: inputs are read
// and outputs written through the arrays' own memory, with no copies. Activations stay
// NHWC and filters HWIO (TensorFlow's layouts, both native to oneDNN); a filter is reordered
// into the layout a primitive prefers only when that differs, which is cheap next to the
// convolution itself. Primitives are built once per shape and cached.
//
// Integer geometry comes in one Int32Array per call; see each function's comment.

#include <node_api.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

using dnnl::memory;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

dnnl::engine &cpuEngine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

dnnl::stream &cpuStream() {
  static dnnl::stream s(cpuEngine());
  return s;
}

// ---------------------------------------------------------------------------------------
// Node-API helpers

struct Args {
  napi_env env;
  std::vector<napi_value> v;
};

Args getArgs(napi_env env, napi_callback_info info, size_t want) {
  Args a{env, std::vector<napi_value>(want)};
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, a.v.data(), nullptr, nullptr) != napi_ok || argc < want) {
    throw std::invalid_argument("expected " + std::to_string(want) + " arguments");
  }
  return a;
}

template <typename T>
struct Span {
  T *data = nullptr;
  size_t length = 0;
};

template <typename T>
Span<T> typed(napi_env env, napi_value value, napi_typedarray_type want, const char *what, bool optional = false) {
  napi_valuetype vt;
  napi_typeof(env, value, &vt);
  if (optional && (vt == napi_null || vt == napi_undefined)) return {};
  bool is = false;
  napi_is_typedarray(env, value, &is);
  if (!is) throw std::invalid_argument(std::string(what) + ": expected a typed array");
  napi_typedarray_type type;
  size_t length;
  void *data;
  napi_value buffer;
  size_t offset;
  napi_get_typedarray_info(env, value, &type, &length, &data, &buffer, &offset);
  if (type != want) throw std::invalid_argument(std::string(what) + ": wrong typed array type");
  return {static_cast<T *>(data), length};
}

Span<float> f32(const Args &a, size_t i, const char *what, bool optional = false) {
  return typed<float>(a.env, a.v[i], napi_float32_array, what, optional);
}

Span<int32_t> i32(const Args &a, size_t i, const char *what) {
  return typed<int32_t>(a.env, a.v[i], napi_int32_array, what);
}

double number(const Args &a, size_t i) {
  double d = 0;
  if (napi_get_value_double(a.env, a.v[i], &d) != napi_ok) throw std::invalid_argument("expected a number");
  return d;
}

void need(const Span<float> &s, int64_t n, const char *what) {
  if (s.data == nullptr || static_cast<int64_t>(s.length) != n) {
    throw std::invalid_argument(std::string(what) + ": expected " + std::to_string(n) + " elements, got " +
                                std::to_string(s.length));
  }
}

// Wraps a kernel body: C++ exceptions become JavaScript errors.
template <typename F>
napi_value guarded(napi_env env, F body) {
  try {
    body();
  } catch (const dnnl::error &e) {
    napi_throw_error(env, nullptr, (std::string("oneDNN: ") + e.what()).c_str());
  } catch (const std::exception &e) {
    napi_throw_error(env, nullptr, e.what());
  }
  return nullptr;
}

// Small problems run on the calling thread alone: waking a second thread for a few
// microseconds of work costs more than it saves, and on a busy machine each parallel region
// can wait a whole scheduler tick for its other thread. Whether a shape counts as small is
// fixed, so each cached primitive is created and run with the same thread count, as oneDNN
// requires.
class SerialIf {
 public:
  explicit SerialIf(bool small) {
#ifdef _OPENMP
    if (small) {
      saved_ = omp_get_max_threads();
      omp_set_num_threads(1);
    }
#endif
  }
  ~SerialIf() {
#ifdef _OPENMP
    if (saved_ > 0) omp_set_num_threads(saved_);
#endif
  }
  SerialIf(const SerialIf &) = delete;
  SerialIf &operator=(const SerialIf &) = delete;

 private:
  int saved_ = 0;
};

constexpr int64_t SERIAL_CONV_MACS = 4 << 20;  // multiply-adds
constexpr int64_t SERIAL_ELEMENTS = 1 << 18;   // elementwise and batch-norm elements

// ---------------------------------------------------------------------------------------
// Convolution geometry: p = [N, H, W, Ci, fh, fw, Co, Ho, Wo, sh, sw, padTop, padLeft,
// padBottom, padRight], with Ho = floor((H + padTop + padBottom - fh) / sh) + 1 and likewise
// Wo (the caller checks this; rows past the last window are simply never read).

struct Conv {
  int64_t N, H, W, Ci, fh, fw, Co, Ho, Wo, sh, sw, pt, pl, pb, pr;

  static Conv parse(const Span<int32_t> &p) {
    if (p.length != 15) throw std::invalid_argument("conv geometry: expected 15 integers");
    Conv c{p.data[0], p.data[1], p.data[2], p.data[3], p.data[4], p.data[5], p.data[6], p.data[7],
           p.data[8], p.data[9], p.data[10], p.data[11], p.data[12], p.data[13], p.data[14]};
    return c;
  }
  std::string key() const {
    std::string k;
    for (int64_t v : {N, H, W, Ci, fh, fw, Co, Ho, Wo, sh, sw, pt, pl, pb, pr}) k += std::to_string(v) + ",";
    return k;
  }
  memory::desc src(tag t = tag::nhwc) const { return {{N, Ci, H, W}, dt::f32, t}; }
  memory::desc dst(tag t = tag::nhwc) const { return {{N, Co, Ho, Wo}, dt::f32, t}; }
  memory::desc weights(tag t = tag::hwio) const { return {{Co, Ci, fh, fw}, dt::f32, t}; }
  memory::dims strides() const { return {sh, sw}; }
  memory::dims padL() const { return {pt, pl}; }
  memory::dims padR() const { return {pb, pr}; }
  int64_t srcSize() const { return N * H * W * Ci; }
  int64_t dstSize() const { return N * Ho * Wo * Co; }
  int64_t weightsSize() const { return fh * fw * Ci * Co; }
  bool small() const { return N * Ho * Wo * fh * fw * Ci * Co < SERIAL_CONV_MACS; }
};

// Weights in the primitive's preferred layout: the user's HWIO buffer when it already is
// that layout, else a cached buffer the caller reorders into (or out of).
struct WeightsSlot {
  memory::desc want;
  std::unique_ptr<memory> own;  // present when `want` differs from HWIO

  void init(const memory::desc &preferred, const memory::desc &user) {
    want = preferred;
    if (preferred != user) own = std::make_unique<memory>(preferred, cpuEngine());
  }
};

struct ConvForward {
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::convolution_forward prim;
  WeightsSlot w;
};

struct ConvBackwardData {
  dnnl::convolution_backward_data::primitive_desc pd;
  dnnl::convolution_backward_data prim;
  WeightsSlot w;
};

struct ConvBackwardWeights {
  dnnl::convolution_backward_weights::primitive_desc pd;
  dnnl::convolution_backward_weights prim;
  WeightsSlot w;
};

dnnl::convolution_forward::primitive_desc forwardPd(const Conv &c, bool bias, bool relu) {
  memory::desc biasMd = bias ? memory::desc({c.Co}, dt::f32, tag::a) : memory::desc();
  dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                    c.src(), c.weights(tag::any), biasMd, c.dst(), c.strides(), c.padL(),
                                    c.padR());
  dnnl::primitive_attr attr;
  if (relu) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
    attr.set_post_ops(ops);
  }
  return {d, attr, cpuEngine()};
}

template <typename T>
using Cache = std::unordered_map<std::string, std::unique_ptr<T>>;

void reorder(memory &from, memory &to) {
  dnnl::reorder(from, to).execute(cpuStream(), from, to);
}

void convForward(const Conv &c, const float *x, const float *w, const float *b, float *y, bool relu) {
  static Cache<ConvForward> cache;
  std::string key = c.key() + (b ? "b" : "") + (relu ? "r" : "");
  auto &slot = cache[key];
  if (!slot) {
    auto pd = forwardPd(c, b != nullptr, relu);
    slot.reset(new ConvForward{pd, dnnl::convolution_forward(pd), {}});
    slot->w.init(pd.weights_desc(), c.weights());
  }
  auto &e = cpuEngine();
  memory xm(c.src(), e, const_cast<float *>(x)), ym(c.dst(), e, y);
  memory wUser(c.weights(), e, const_cast<float *>(w));
  memory *wm = &wUser;
  if (slot->w.own) {
    reorder(wUser, *slot->w.own);
    wm = slot->w.own.get();
  }
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, xm}, {DNNL_ARG_WEIGHTS, *wm}, {DNNL_ARG_DST, ym}};
  if (b) args.insert({DNNL_ARG_BIAS, memory({{c.Co}, dt::f32, tag::a}, e, const_cast<float *>(b))});
  slot->prim.execute(cpuStream(), args);
  cpuStream().wait();
}

void convBackwardData(const Conv &c, const float *dy, const float *w, float *dx) {
  static Cache<ConvBackwardData> cache;
  auto &slot = cache[c.key()];
  if (!slot) {
    auto hint = forwardPd(c, false, false);
    dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, c.src(), c.weights(tag::any), c.dst(),
                                            c.strides(), c.padL(), c.padR());
    dnnl::convolution_backward_data::primitive_desc pd(d, cpuEngine(), hint);
    slot.reset(new ConvBackwardData{pd, dnnl::convolution_backward_data(pd), {}});
    slot->w.init(pd.weights_desc(), c.weights());
  }
  auto &e = cpuEngine();
  memory dym(c.dst(), e, const_cast<float *>(dy)), dxm(c.src(), e, dx);
  memory wUser(c.weights(), e, const_cast<float *>(w));
  memory *wm = &wUser;
  if (slot->w.own) {
    reorder(wUser, *slot->w.own);
    wm = slot->w.own.get();
  }
  slot->prim.execute(cpuStream(), {{DNNL_ARG_DIFF_DST, dym}, {DNNL_ARG_WEIGHTS, *wm}, {DNNL_ARG_DIFF_SRC, dxm}});
  cpuStream().wait();
}

void convBackwardWeights(const Conv &c, const float *x, const float *dy, float *dw) {
  static Cache<ConvBackwardWeights> cache;
  auto &slot = cache[c.key()];
  if (!slot) {
    auto hint = forwardPd(c, false, false);
    dnnl::convolution_backward_weights::desc d(dnnl::algorithm::convolution_direct, c.src(), c.weights(tag::any),
                                               c.dst(), c.strides(), c.padL(), c.padR());
    dnnl::convolution_backward_weights::primitive_desc pd(d, cpuEngine(), hint);
    slot.reset(new ConvBackwardWeights{pd, dnnl::convolution_backward_weights(pd), {}});
    slot->w.init(pd.diff_weights_desc(), c.weights());
  }
  auto &e = cpuEngine();
  memory xm(c.src(), e, const_cast<float *>(x)), dym(c.dst(), e, const_cast<float *>(dy));
  memory dwUser(c.weights(), e, dw);
  memory &dwm = slot->w.own ? *slot->w.own : dwUser;
  slot->prim.execute(cpuStream(), {{DNNL_ARG_SRC, xm}, {DNNL_ARG_DIFF_DST, dym}, {DNNL_ARG_DIFF_WEIGHTS, dwm}});
  if (slot->w.own) reorder(*slot->w.own, dwUser);
  cpuStream().wait();
}

// Strided 1x1 convolutions without padding (projection shortcuts) are run as stride-1 ones on
// the strided positions of the input: the same numbers, and it keeps them off oneDNN 2.6's
// strided 1x1 kernels, whose weight gradient corrupts memory when there are fewer than 16
// input channels.
bool strided1x1(const Conv &c) {
  return c.fh == 1 && c.fw == 1 && (c.sh > 1 || c.sw > 1) && c.pt == 0 && c.pl == 0 && c.pb == 0 && c.pr == 0;
}

Conv unitStride(const Conv &c) {
  return {c.N, c.Ho, c.Wo, c.Ci, 1, 1, c.Co, c.Ho, c.Wo, 1, 1, 0, 0, 0, 0};
}

// Copies x[n, i*sh, j*sw, :] into an N x Ho x Wo x Ci buffer (gather), or back (scatter,
// into a zeroed full-size buffer).
void strided(const Conv &c, const float *full, float *sub) {
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < c.N; n++)
    for (int64_t i = 0; i < c.Ho; i++)
      for (int64_t j = 0; j < c.Wo; j++)
        std::memcpy(sub + ((n * c.Ho + i) * c.Wo + j) * c.Ci, full + ((n * c.H + i * c.sh) * c.W + j * c.sw) * c.Ci,
                    sizeof(float) * c.Ci);
}

void unstrided(const Conv &c, const float *sub, float *full) {
  std::memset(full, 0, sizeof(float) * c.srcSize());
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < c.N; n++)
    for (int64_t i = 0; i < c.Ho; i++)
      for (int64_t j = 0; j < c.Wo; j++)
        std::memcpy(full + ((n * c.H + i * c.sh) * c.W + j * c.sw) * c.Ci, sub + ((n * c.Ho + i) * c.Wo + j) * c.Ci,
                    sizeof(float) * c.Ci);
}

// convForward(x, w, bias | null, y, p, relu)
napi_value ConvForwardFn(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a = getArgs(env, info, 6);
    Conv c = Conv::parse(i32(a, 4, "geometry"));
    auto x = f32(a, 0, "x"), w = f32(a, 1, "filter"), b = f32(a, 2, "bias", true), y = f32(a, 3, "y");
    bool relu = number(a, 5) != 0;
    need(x, c.srcSize(), "x");
    need(w, c.weightsSize(), "filter");
    need(y, c.dstSize(), "y");
    if (b.data) need(b, c.Co, "bias");
    SerialIf serial(c.small());
    if (strided1x1(c)) {
      Conv u = unitStride(c);
      std::vector<float> xs(u.srcSize());
      strided(c, x.data, xs.data());
      convForward(u, xs.data(), w.data, b.data, y.data, relu);
    } else {
      convForward(c, x.data, w.data, b.data, y.data, relu);
    }
  });
}

// convBackwardData(dy, w, dx, p)
napi_value ConvBackwardDataFn(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a = getArgs(env, info, 4);
    Conv c = Conv::parse(i32(a, 3, "geometry"));
    auto dy = f32(a, 0, "dy"), w = f32(a, 1, "filter"), dx = f32(a, 2, "dx");
    need(dy, c.dstSize(), "dy");
    need(w, c.weightsSize(), "filter");
    need(dx, c.srcSize(), "dx");
    SerialIf serial(c.small());
    if (strided1x1(c)) {
      Conv u = unitStride(c);
      std::vector<float> dxs(u.srcSize());
      convBackwardData(u, dy.data, w.data, dxs.data());
      unstrided(c, dxs.data(), dx.data);
    } else {
      convBackwardData(c, dy.data, w.data, dx.data);
    }
  });
}

// convBackwardWeights(x, dy, dw, p)
napi_value ConvBackwardWeightsFn(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a = getArgs(env, info, 4);
    Conv c = Conv::parse(i32(a, 3, "geometry"));
    auto x = f32(a, 0, "x"), dy = f32(a, 1, "dy"), dw = f32(a, 2, "dw");
    need(x, c.srcSize(), "x");
    need(dy, c.dstSize(), "dy");
    need(dw, c.weightsSize(), "dw");
    SerialIf serial(c.small());
    if (strided1x1(c)) {
      Conv u = unitStride(c);
      std::vector<float> xs(u.srcSize());
      strided(c, x.data, xs.data());
      convBackwardWeights(u, xs.data(), dy.data, dw.data);
    } else {
      convBackwardWeights(c, x.data, dy.data, dw.data);
    }
  });
}

// ---------------------------------------------------------------------------------------
// Training-mode batch normalization over N, H, W of NHWC data: p = [N, H, W, C].
// Statistics are the batch mean and the biased variance, as TensorFlow and PyTorch use to
// normalize.

struct BnShape {
  int64_t N, H, W, C;
  static BnShape parse(const Span<int32_t> &p) {
    if (p.length != 4) throw std::invalid_argument("batch norm shape: expected 4 integers");
    return {p.data[0], p.data[1], p.data[2], p.data[3]};
  }
  memory::desc data() const { return {{N, C, H, W}, dt::f32, tag::nhwc}; }
  memory::desc vec() const { return {{C}, dt::f32, tag::a}; }
  int64_t size() const { return N * H * W * C; }
  std::string key(float eps) const {
    return std::to_string(N) + "," + std::to_string(H) + "," + std::to_string(W) + "," + std::to_string(C) + "," +
           std::to_string(eps);
  }
};

const auto BN_FLAGS = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;

dnnl::batch_normalization_forward::primitive_desc bnForwardPd(const BnShape &s, float eps) {
  dnnl::batch_normalization_forward::desc d(dnnl::prop_kind::forward_training, s.data(), eps, BN_FLAGS);
  return {d, cpuEngine()};
}

struct BnForward {
  dnnl::batch_normalization_forward::primitive_desc pd;
  dnnl::batch_normalization_forward prim;
};

struct BnBackward {
  dnnl::batch_normalization_backward::primitive_desc pd;
  dnnl::batch_normalization_backward prim;
};

// batchNormForward(x, gamma, beta, y, mean, variance, p, eps)
napi_value BatchNormForwardFn(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    static Cache<BnForward> cache;
    Args a = getArgs(env, info, 8);
    BnShape s = BnShape::parse(i32(a, 6, "shape"));
    float eps = static_cast<float>(number(a, 7));
    auto x = f32(a, 0, "x"), g = f32(a, 1, "gamma"), b = f32(a, 2, "beta"), y = f32(a, 3, "y");
    auto mean = f32(a, 4, "mean"), var = f32(a, 5, "variance");
    need(x, s.size(), "x");
    need(y, s.size(), "y");
    for (auto *v : {&g, &b, &mean, &var}) need(*v, s.C, "per-channel vector");
    SerialIf serial(s.size() < SERIAL_ELEMENTS);
    auto &slot = cache[s.key(eps)];
    if (!slot) {
      auto pd = bnForwardPd(s, eps);
      slot.reset(new BnForward{pd, dnnl::batch_normalization_forward(pd)});
    }
    auto &e = cpuEngine();
    slot->prim.execute(cpuStream(), {{DNNL_ARG_SRC, memory(s.data(), e, x.data)},
                                     {DNNL_ARG_DST, memory(s.data(), e, y.data)},
                                     {DNNL_ARG_SCALE, memory(s.vec(), e, g.data)},
                                     {DNNL_ARG_SHIFT, memory(s.vec(), e, b.data)},
                                     {DNNL_ARG_MEAN, memory(s.vec(), e, mean.data)},
                                     {DNNL_ARG_VARIANCE, memory(s.vec(), e, var.data)}});
    cpuStream().wait();
  });
}

// batchNormBackward(x, dy, gamma, beta, mean, variance, dx, dgamma, dbeta, p, eps). oneDNN
// 2.6 lists the shift among the backward pass's inputs although the result does not depend
// on it.
napi_value BatchNormBackwardFn(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    static Cache<BnBackward> cache;
    Args a = getArgs(env, info, 11);
    BnShape s = BnShape::parse(i32(a, 9, "shape"));
    float eps = static_cast<float>(number(a, 10));
    auto x = f32(a, 0, "x"), dy = f32(a, 1, "dy"), g = f32(a, 2, "gamma"), b = f32(a, 3, "beta");
    auto mean = f32(a, 4, "mean"), var = f32(a, 5, "variance");
    auto dx = f32(a, 6, "dx"), dg = f32(a, 7, "dgamma"), db = f32(a, 8, "dbeta");
    need(x, s.size(), "x");
    need(dy, s.size(), "dy");
    need(dx, s.size(), "dx");
    for (auto *v : {&g, &b, &mean, &var, &dg, &db}) need(*v, s.C, "per-channel vector");
    SerialIf serial(s.size() < SERIAL_ELEMENTS);
    auto &slot = cache[s.key(eps)];
    if (!slot) {
      auto hint = bnForwardPd(s, eps);
      dnnl::batch_normalization_backward::desc d(dnnl::prop_kind::backward, s.data(), s.data(), eps, BN_FLAGS);
      dnnl::batch_normalization_backward::primitive_desc pd(d, cpuEngine(), hint);
      slot.reset(new BnBackward{pd, dnnl::batch_normalization_backward(pd)});
    }
    auto &e = cpuEngine();
    slot->prim.execute(cpuStream(), {{DNNL_ARG_SRC, memory(s.data(), e, x.data)},
                                     {DNNL_ARG_DIFF_DST, memory(s.data(), e, dy.data)},
                                     {DNNL_ARG_SCALE, memory(s.vec(), e, g.data)},
                                     {DNNL_ARG_SHIFT, memory(s.vec(), e, b.data)},
                                     {DNNL_ARG_MEAN, memory(s.vec(), e, mean.data)},
                                     {DNNL_ARG_VARIANCE, memory(s.vec(), e, var.data)},
                                     {DNNL_ARG_DIFF_SRC, memory(s.data(), e, dx.data)},
                                     {DNNL_ARG_DIFF_SCALE, memory(s.vec(), e, dg.data)},
                                     {DNNL_ARG_DIFF_SHIFT, memory(s.vec(), e, db.data)}});
    cpuStream().wait();
  });
}

// ---------------------------------------------------------------------------------------
// Elementwise float32 arithmetic, the work a training step has most of once convolutions are
// fast (optimizer updates, residual adds, ReLU and its gradient). Memory-bound: one pass,
// split over the OpenMP threads when large (SERIAL_ELEMENTS).

// binary(op, a, b, out, shape, aStrides, bStrides): op 0 add, 1 sub, 2 mul, 3 div, with
// NumPy broadcasting: `shape` is the output's and each operand's strides are 0 along the axes
// it is broadcast over. Same-shape and scalar operands take flat loops; otherwise each
// output row (the last axis) is one strided loop.
template <typename Op>
void binaryLoop(const float *a, const float *b, float *out, const std::vector<int64_t> &shape,
                const std::vector<int64_t> &as, const std::vector<int64_t> &bs, Op op) {
  const size_t rank = shape.size();
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  bool aFull = true, bFull = true, aScalar = true, bScalar = true;
  for (size_t d = 0, stride = 1; d < rank; d++) {
    const size_t axis = rank - 1 - d;
    if (shape[axis] == 1) continue;
    aFull = aFull && as[axis] == static_cast<int64_t>(stride);
    bFull = bFull && bs[axis] == static_cast<int64_t>(stride);
    aScalar = aScalar && as[axis] == 0;
    bScalar = bScalar && bs[axis] == 0;
    stride *= shape[axis];
  }
  if (aFull && bFull) {
#pragma omp parallel for simd schedule(static) if (n >= SERIAL_ELEMENTS)
    for (int64_t i = 0; i < n; i++) out[i] = op(a[i], b[i]);
  } else if (aFull && bScalar) {
    const float bv = b[0];
#pragma omp parallel for simd schedule(static) if (n >= SERIAL_ELEMENTS)
    for (int64_t i = 0; i < n; i++) out[i] = op(a[i], bv);
  } else if (aScalar && bFull) {
    const float av = a[0];
#pragma omp parallel for simd schedule(static) if (n >= SERIAL_ELEMENTS)
    for (int64_t i = 0; i < n; i++) out[i] = op(av, b[i]);
  } else {
    const int64_t inner = rank ? shape[rank - 1] : 1;
    const int64_t rows = inner ? n / inner : 0;
    const int64_t ai = rank ? as[rank - 1] : 0, bi = rank ? bs[rank - 1] : 0;
#pragma omp parallel for schedule(static) if (n >= SERIAL_ELEMENTS)
    for (int64_t r = 0; r < rows; r++) {
      int64_t ao = 0, bo = 0;
      for (int64_t d = static_cast<int64_t>(rank) - 2, rem = r; d >= 0; d--) {
        const int64_t coord = rem % shape[d];
        rem /= shape[d];
        ao += coord * as[d];
        bo += coord * bs[d];
      }
      float *o = out + r * inner;
      for (int64_t j = 0; j < inner; j++) o[j] = op(a[ao + j * ai], b[bo + j * bi]);
    }
  }
}

napi_value BinaryFn(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a = getArgs(env, info, 7);
    int op = static_cast<int>(number(a, 0));
    auto x = f32(a, 1, "a"), y = f32(a, 2, "b"), out = f32(a, 3, "out");
    auto sh = i32(a, 4, "shape"), xs = i32(a, 5, "aStrides"), ys = i32(a, 6, "bStrides");
    if (xs.length != sh.length || ys.length != sh.length) throw std::invalid_argument("binary: strides and shape differ in rank");
    std::vector<int64_t> shape(sh.data, sh.data + sh.length), as(xs.data, xs.data + xs.length), bs(ys.data, ys.data + ys.length);
    int64_t n = 1, aEnd = 0, bEnd = 0;
    for (size_t d = 0; d < shape.size(); d++) {
      if (shape[d] < 0 || as[d] < 0 || bs[d] < 0) throw std::invalid_argument("binary: negative shape or stride");
      n *= shape[d];
      if (shape[d] > 0) {
        aEnd += (shape[d] - 1) * as[d];
        bEnd += (shape[d] - 1) * bs[d];
      }
    }
    if (static_cast<int64_t>(out.length) != n) throw std::invalid_argument("binary: output size does not match the shape");
    if (n == 0) return;
    if (aEnd >= static_cast<int64_t>(x.length) || bEnd >= static_cast<int64_t>(y.length)) {
      throw std::invalid_argument("binary: strides reach past an operand");
    }
    switch (op) {
      case 0: binaryLoop(x.data, y.data, out.data, shape, as, bs, [](float p, float q) { return p + q; }); break;
      case 1: binaryLoop(x.data, y.data, out.data, shape, as, bs, [](float p, float q) { return p - q; }); break;
      case 2: binaryLoop(x.data, y.data, out.data, shape, as, bs, [](float p, float q) { return p * q; }); break;
      case 3: binaryLoop(x.data, y.data, out.data, shape, as, bs, [](float p, float q) { return p / q; }); break;
      default: throw std::invalid_argument("binary: unknown op");
    }
  });
}

// unary(op, x, out, alpha): op 0 relu (NaN stays NaN), 1 step (1 where x > 0, NaN where x is
// NaN, alpha elsewhere), as TensorFlow.js defines them.
napi_value UnaryFn(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a = getArgs(env, info, 4);
    int op = static_cast<int>(number(a, 0));
    auto x = f32(a, 1, "x"), out = f32(a, 2, "out");
    const float alpha = static_cast<float>(number(a, 3));
    if (x.length != out.length) throw std::invalid_argument("unary: lengths differ");
    const int64_t n = static_cast<int64_t>(x.length);
    const float *in = x.data;
    float *o = out.data;
    if (op == 0) {
#pragma omp parallel for simd schedule(static) if (n >= SERIAL_ELEMENTS)
      for (int64_t i = 0; i < n; i++) o[i] = in[i] < 0.f ? 0.f : in[i];
    } else if (op == 1) {
#pragma omp parallel for simd schedule(static) if (n >= SERIAL_ELEMENTS)
      for (int64_t i = 0; i < n; i++) o[i] = in[i] > 0.f ? 1.f : (in[i] != in[i] ? in[i] : alpha);
    } else {
      throw std::invalid_argument("unary: unknown op");
    }
  });
}

// sgdUpdate(param, buffer, grad, paramOut, bufferOut, lr, momentum, weightDecay, nesterov):
// one step of src/train/optimizer.ts's SGD in one pass over the parameter, float32 operations
// in the same order as the TensorFlow.js ops it replaces (8 passes, 8 allocations there):
//   g = grad + param·wd (when wd > 0);  buf' = buf·μ + g;  step = nesterov ? g + buf'·μ : buf';
//   param' = param − step·lr.
napi_value SgdUpdateFn(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a = getArgs(env, info, 9);
    auto p = f32(a, 0, "param"), b = f32(a, 1, "buffer"), g = f32(a, 2, "grad"), po = f32(a, 3, "paramOut"), bo = f32(a, 4, "bufferOut");
    const float lr = static_cast<float>(number(a, 5)), mu = static_cast<float>(number(a, 6)), wd = static_cast<float>(number(a, 7));
    const bool nesterov = number(a, 8) != 0, decay = wd > 0.f;
    const size_t len = p.length;
    if (b.length != len || g.length != len || po.length != len || bo.length != len) throw std::invalid_argument("sgdUpdate: lengths differ");
    const int64_t n = static_cast<int64_t>(len);
    const float *pp = p.data, *bp = b.data, *gp = g.data;
    float *pout = po.data, *bout = bo.data;
#pragma omp parallel for simd schedule(static) if (n >= SERIAL_ELEMENTS)
    for (int64_t i = 0; i < n; i++) {
      const float gi = decay ? gp[i] + pp[i] * wd : gp[i];
      const float bi = bp[i] * mu + gi;
      bout[i] = bi;
      const float step = nesterov ? gi + bi * mu : bi;
      pout[i] = pp[i] - step * lr;
    }
  });
}

// ---------------------------------------------------------------------------------------
// matmul(a, b, out, p): p = [batch, M, N, K, transposeA, transposeB, aBatched, bBatched];
// row-major out[i] = op(a[i]) x op(b[i]) for each batch entry i, where an operand that is not
// batched is shared by all of them.

napi_value MatMulFn(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a = getArgs(env, info, 4);
    auto x = f32(a, 0, "a"), y = f32(a, 1, "b"), out = f32(a, 2, "out");
    auto p = i32(a, 3, "geometry");
    if (p.length != 8) throw std::invalid_argument("matmul geometry: expected 8 integers");
    const int64_t batch = p.data[0], M = p.data[1], N = p.data[2], K = p.data[3];
    const bool ta = p.data[4] != 0, tb = p.data[5] != 0, aBatched = p.data[6] != 0, bBatched = p.data[7] != 0;
    need(x, (aBatched ? batch : 1) * M * K, "a");
    need(y, (bBatched ? batch : 1) * K * N, "b");
    need(out, batch * M * N, "out");
    SerialIf serial(batch * M * N * K < SERIAL_CONV_MACS);
    for (int64_t i = 0; i < batch; i++) {
      const float *ai = x.data + (aBatched ? i * M * K : 0);
      const float *bi = y.data + (bBatched ? i * K * N : 0);
      dnnl_status_t st = dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, 1.f, ai, ta ? M : K, bi, tb ? K : N, 0.f,
                                    out.data + i * M * N, N);
      if (st != dnnl_success) throw std::runtime_error("oneDNN: sgemm failed");
    }
  });
}

// ---------------------------------------------------------------------------------------

napi_value InfoFn(napi_env env, napi_callback_info) {
  napi_value out, v;
  napi_create_object(env, &out);
  const dnnl_version_t *ver = dnnl_version();
  std::string version = std::to_string(ver->major) + "." + std::to_string(ver->minor) + "." + std::to_string(ver->patch);
  napi_create_string_utf8(env, version.c_str(), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, out, "version", v);
  int threads = 1;
#ifdef _OPENMP
  threads = omp_get_max_threads();
#endif
  napi_create_int32(env, threads, &v);
  napi_set_named_property(env, out, "threads", v);
  return out;
}

void define(napi_env env, napi_value exports, const char *name, napi_callback fn) {
  napi_value f;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, nullptr, &f);
  napi_set_named_property(env, exports, name, f);
}

napi_value Init(napi_env env, napi_value exports) {
  define(env, exports, "info", InfoFn);
  define(env, exports, "convForward", ConvForwardFn);
  define(env, exports, "convBackwardData", ConvBackwardDataFn);
  define(env, exports, "convBackwardWeights", ConvBackwardWeightsFn);
  define(env, exports, "batchNormForward", BatchNormForwardFn);
  define(env, exports, "batchNormBackward", BatchNormBackwardFn);
  define(env, exports, "binary", BinaryFn);
  define(env, exports, "unary", UnaryFn);
  define(env, exports, "matmul", MatMulFn);
  define(env, exports, "sgdUpdate", SgdUpdateFn);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
