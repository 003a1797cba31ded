"""Writes small dense networks as real ``.tflite`` flatbuffers, without TensorFlow.

Why not the TensorFlow converter: tensorflow-cpu is a 1.6 GB install for what is here a handful of fully
connected layers. The LiteRT runtime ships the official schema bindings (``ai_edge_litert.schema_py_generated``,
generated from tensorflow/lite/schema/schema.fbs) and depends on ``flatbuffers``, so the model file is built
from the same schema the interpreter reads, with nothing extra to install. This is the route TensorFlow's own
``lite/python/util.py`` uses to rewrite models (``ModelT.Pack`` + ``Finish(..., b"TFL3")``). The result is
checked by loading it into the LiteRT interpreter and comparing with a numpy reference (tests/detection/cloud).

Graphs (batch dimension dynamic):
- autoencoder: x -> z = x*scale + offset -> dense layers -> r; output mean((r - z)^2) per row (the reconstruction
  error, the number the service thresholds), and r.
- classifier: x -> z = x*scale + offset -> dense layers -> softmax.
"""
from __future__ import annotations

from dataclasses import dataclass

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as fb

ACTIVATIONS = {"identity": fb.ActivationFunctionType.NONE, "relu": fb.ActivationFunctionType.RELU}


@dataclass(frozen=True)
class Dense:
    weights: np.ndarray  # (in, out), as scikit-learn's coefs_
    bias: np.ndarray  # (out,)
    activation: str  # identity | relu


class _AlignedBuffer(fb.BufferT):  # type: ignore[misc]  # ai_edge_litert ships no types: BufferT is Any
    """Constant data aligned to 16 bytes, as the TensorFlow converter writes it (SIMD kernels read in place)."""

    def Pack(self, builder: flatbuffers.Builder) -> int:  # the generated API's name
        data = None
        if self.data is not None:
            raw = bytes(self.data)
            builder.StartVector(1, len(raw), 16)
            builder.head = builder.head - len(raw)
            builder.Bytes[builder.head: builder.head + len(raw)] = raw
            data = builder.EndVector()
        fb.BufferStart(builder)
        if data is not None:
            fb.BufferAddData(builder, data)
        end: int = fb.BufferEnd(builder)
        return end


class _Graph:
    def __init__(self, n_features: int) -> None:
        self.tensors: list[fb.TensorT] = []
        self.buffers: list[fb.BufferT] = [_AlignedBuffer()]  # buffer 0: the schema's empty sentinel
        self.operators: list[fb.OperatorT] = []
        self.opcodes: list[int] = []
        self.input = self.activation([n_features], "features")

    def _tensor(self, shape: list[int], name: str, buffer: int, dtype: int, signature: list[int] | None) -> int:
        t = fb.TensorT()
        t.shape, t.type, t.buffer, t.name = list(shape), dtype, buffer, name
        if signature is not None:
            t.shapeSignature = signature
        self.tensors.append(t)
        return len(self.tensors) - 1

    def activation(self, width: list[int], name: str) -> int:
        """A (batch, *width) float32 tensor computed at run time; batch is -1 (any) in the signature."""
        return self._tensor([1, *width], name, 0, fb.TensorType.FLOAT32, [-1, *width])

    def constant(self, value: np.ndarray, name: str) -> int:
        value = np.ascontiguousarray(value)
        dtype = {np.dtype(np.float32): fb.TensorType.FLOAT32, np.dtype(np.int32): fb.TensorType.INT32}[value.dtype]
        buf = _AlignedBuffer()
        buf.data = value.tobytes()
        self.buffers.append(buf)
        return self._tensor(list(value.shape), name, len(self.buffers) - 1, dtype, None)

    def op(self, code: int, inputs: list[int], outputs: list[int], options_type: int = 0,
           options: object = None) -> None:
        if code not in self.opcodes:
            self.opcodes.append(code)
        o = fb.OperatorT()
        o.opcodeIndex, o.inputs, o.outputs = self.opcodes.index(code), inputs, outputs
        o.builtinOptionsType, o.builtinOptions = options_type, options
        self.operators.append(o)

    def standardise(self, scale: np.ndarray, offset: np.ndarray) -> int:
        n = len(scale)
        mul, z = self.activation([n], "scaled"), self.activation([n], "standardised")
        m, a = fb.MulOptionsT(), fb.AddOptionsT()
        self.op(fb.BuiltinOperator.MUL, [self.input, self.constant(scale.astype(np.float32), "scale")], [mul],
                fb.BuiltinOptions.MulOptions, m)
        self.op(fb.BuiltinOperator.ADD, [mul, self.constant(offset.astype(np.float32), "offset")], [z],
                fb.BuiltinOptions.AddOptions, a)
        return z

    def dense(self, x: int, layer: Dense, name: str) -> int:
        out = self.activation([layer.weights.shape[1]], name)
        opts = fb.FullyConnectedOptionsT()
        opts.fusedActivationFunction = ACTIVATIONS[layer.activation]
        # TFLite stores fully connected weights as (out, in).
        w = self.constant(layer.weights.T.astype(np.float32), f"{name}/weights")
        b = self.constant(layer.bias.astype(np.float32), f"{name}/bias")
        self.op(fb.BuiltinOperator.FULLY_CONNECTED, [x, w, b], [out], fb.BuiltinOptions.FullyConnectedOptions, opts)
        return out

    def finish(self, outputs: list[int], description: str) -> bytes:
        sub = fb.SubGraphT()
        sub.tensors, sub.inputs, sub.outputs, sub.operators = self.tensors, [self.input], outputs, self.operators
        sub.name = "main"
        model = fb.ModelT()
        model.version = 3  # the schema's current file version
        model.description = description
        model.subgraphs, model.buffers = [sub], self.buffers
        codes = []
        for code in self.opcodes:
            c = fb.OperatorCodeT()
            c.builtinCode, c.deprecatedBuiltinCode, c.version = code, min(code, 127), 1
            codes.append(c)
        model.operatorCodes = codes
        builder = flatbuffers.Builder(1024)
        builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
        return bytes(builder.Output())


def autoencoder_tflite(scale: np.ndarray, offset: np.ndarray, layers: list[Dense], description: str) -> bytes:
    """Outputs: 0 = reconstruction error (batch,), 1 = reconstruction (batch, n) in standardised units."""
    g = _Graph(len(scale))
    z = g.standardise(scale, offset)
    h = z
    for i, layer in enumerate(layers):
        h = g.dense(h, layer, f"dense{i}")
    n = len(scale)
    sq, err = g.activation([n], "squared_error"), g._tensor([1], "reconstruction_error", 0,
                                                            fb.TensorType.FLOAT32, [-1])
    g.op(fb.BuiltinOperator.SQUARED_DIFFERENCE, [h, z], [sq], fb.BuiltinOptions.SquaredDifferenceOptions,
         fb.SquaredDifferenceOptionsT())
    red = fb.ReducerOptionsT()
    red.keepDims = False
    g.op(fb.BuiltinOperator.MEAN, [sq, g.constant(np.array([1], np.int32), "feature_axis")], [err],
         fb.BuiltinOptions.ReducerOptions, red)
    return g.finish([err, h], description)


def classifier_tflite(scale: np.ndarray, offset: np.ndarray, layers: list[Dense], description: str) -> bytes:
    """Output 0 = class probabilities (batch, n_classes)."""
    g = _Graph(len(scale))
    h = g.standardise(scale, offset)
    for i, layer in enumerate(layers):
        h = g.dense(h, layer, f"dense{i}")
    probs = g.activation([layers[-1].weights.shape[1]], "probabilities")
    sm = fb.SoftmaxOptionsT()
    sm.beta = 1.0
    g.op(fb.BuiltinOperator.SOFTMAX, [h], [probs], fb.BuiltinOptions.SoftmaxOptions, sm)
    return g.finish([probs], description)


def reference_autoencoder(x: np.ndarray, scale: np.ndarray, offset: np.ndarray,
                          layers: list[Dense]) -> np.ndarray:
    """The same computation in numpy (float64): what the .tflite must reproduce."""
    z = x * scale + offset
    h = z
    for layer in layers:
        h = h @ layer.weights + layer.bias
        if layer.activation == "relu":
            h = np.maximum(h, 0.0)
    error: np.ndarray = np.mean((h - z) ** 2, axis=1)
    return error


def reference_classifier(x: np.ndarray, scale: np.ndarray, offset: np.ndarray, layers: list[Dense]) -> np.ndarray:
    h = x * scale + offset
    for layer in layers:
        h = h @ layer.weights + layer.bias
        if layer.activation == "relu":
            h = np.maximum(h, 0.0)
    e = np.exp(h - h.max(axis=1, keepdims=True))
    probabilities: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return probabilities
