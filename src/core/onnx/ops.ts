// The operators the tool knows, per domain. An op outside these lists is a custom op (shown as unknown):
// a made-up op in a known domain ("NotARealOp", "com.microsoft::TotallyFake") is as custom as one in a
// made-up domain, since no reader or runtime would run it.

/** ai.onnx (the default domain), every opset through 23, with the experimental ops of opsets 1–9. */
const ONNX_OPS = new Set(`
Abs Acos Acosh Add AffineGrid And ArgMax ArgMin Asin Asinh Atan Atanh Attention AveragePool BatchNormalization
Bernoulli BitShift BitwiseAnd BitwiseNot BitwiseOr BitwiseXor BlackmanWindow Cast CastLike Ceil Celu CenterCropPad
Clip Col2Im Compress Concat ConcatFromSequence Constant ConstantOfShape Conv ConvInteger ConvTranspose Cos Cosh
CumSum DFT DeformConv DepthToSpace DequantizeLinear Det Div Dropout DynamicQuantizeLinear Einsum Elu Equal Erf Exp
Expand EyeLike Flatten Floor GRU Gather GatherElements GatherND Gelu Gemm GlobalAveragePool GlobalLpPool
GlobalMaxPool Greater GreaterOrEqual GridSample GroupNormalization HammingWindow HannWindow HardSigmoid HardSwish
Hardmax Identity If ImageDecoder InstanceNormalization IsInf IsNaN LRN LSTM LayerNormalization LeakyRelu Less
LessOrEqual Log LogSoftmax Loop LpNormalization LpPool MatMul MatMulInteger Max MaxPool MaxRoiPool MaxUnpool Mean
MeanVarianceNormalization MelWeightMatrix Min Mish Mod Mul Multinomial Neg NegativeLogLikelihoodLoss
NonMaxSuppression NonZero Not OneHot Optional OptionalGetElement OptionalHasElement Or PRelu Pad Pow QLinearConv
QLinearMatMul QuantizeLinear RMSNormalization RNN RandomNormal RandomNormalLike RandomUniform RandomUniformLike
Range Reciprocal ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax ReduceMean ReduceMin ReduceProd ReduceSum
ReduceSumSquare RegexFullMatch Relu Reshape Resize ReverseSequence RoiAlign RotaryEmbedding Round STFT Scan Scatter
ScatterElements ScatterND Selu SequenceAt SequenceConstruct SequenceEmpty SequenceErase SequenceInsert
SequenceLength SequenceMap Shape Shrink Sigmoid Sign Sin Sinh Size Slice Softmax SoftmaxCrossEntropyLoss Softplus
Softsign SpaceToDepth Split SplitToSequence Sqrt Squeeze StringConcat StringNormalizer StringSplit Sub Sum Swish Tan
Tanh TensorScatter TfIdfVectorizer ThresholdedRelu Tile TopK Transpose Trilu Unique Unsqueeze Upsample Where Xor
Affine Crop DynamicSlice GRUUnit GivenTensorFill ImageScaler ParametricSoftplus Scale ScaledTanh
`.trim().split(/\s+/));

/** ai.onnx.ml: the classical-ML operators. */
const ML_OPS = new Set(`
ArrayFeatureExtractor Binarizer CastMap CategoryMapper DictVectorizer FeatureVectorizer Imputer LabelEncoder
LinearClassifier LinearRegressor Normalizer OneHotEncoder SVMClassifier SVMRegressor Scaler TreeEnsemble
TreeEnsembleClassifier TreeEnsembleRegressor ZipMap
`.trim().split(/\s+/));

const TRAINING_OPS = new Set(['Adagrad', 'Adam', 'Gradient', 'Momentum']);

/** com.microsoft: onnxruntime's contrib ops (docs/ContribOperators.md), including the older ones. */
const MS_OPS = new Set(`
Attention AttnLSTM BeamSearch BiasAdd BiasDropout BiasGelu BiasSoftmax BiasSplitGelu BifurcationDetector
BitmaskBiasDropout BitmaskDropout CDist ComplexMul ComplexMulConj ConvTransposeWithDynamicPads CropAndResize
DecoderAttention DecoderMaskedMultiHeadAttention DecoderMaskedSelfAttention DequantizeBFP DequantizeLinear
DequantizeWithOrder DynamicQuantizeLSTM DynamicQuantizeMatMul DynamicTimeWarping EPContext EmbedLayerNormalization
ExpandDims FastGelu FusedConv FusedGemm FusedMatMul FusedMatMulActivation GatedRelativePositionBias
GatherBlockQuantized GatherND Gelu GemmFastGelu GemmFloat8 GemmaRotaryEmbedding GreedySearch GridSample GroupNorm
GroupQueryAttention Inverse Irfft LongformerAttention MatMulBnb4 MatMulFpQ4 MatMulInteger16 MatMulIntegerToFloat
MatMulNBits MaxpoolWithMask MoE MulInteger MultiHeadAttention MurmurHash3 NGramRepeatBlock NhwcConv NhwcFusedConv
NhwcMaxPool PackedAttention PackedMultiHeadAttention Pad QAttention QEmbedLayerNormalization QGemm QLinearAdd
QLinearAveragePool QLinearConcat QLinearConv QLinearGlobalAveragePool QLinearLeakyRelu QLinearMul
QLinearReduceMean QLinearSigmoid QLinearSoftmax QLinearWhere QMoE QOrderedAttention QOrderedGelu
QOrderedLayerNormalization QOrderedLongformerAttention QOrderedMatMul QuantizeBFP QuantizeLinear QuantizeWithOrder
QuickGelu Range ReduceSumInteger RelativePositionBias RemovePadding RestorePadding Rfft RotaryEmbedding
SampleOp Sampling SimplifiedLayerNormalization SkipGroupNorm SkipLayerNormalization SkipSimplifiedLayerNormalization
Snpe SparseAttention SparseToDenseMatMul Tokenizer TorchEmbedding TransposeMatMul Trilu Unique UnfoldTensor
WhisperBeamSearch WordConvEmbedding
Affine Crop DynamicSlice ImageScaler LayerNormalization MeanVarianceNormalization ParametricSoftplus Scale
ScaledTanh ThresholdedRelu
`.trim().split(/\s+/));

const BY_DOMAIN: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['', ONNX_OPS], ['ai.onnx', ONNX_OPS], ['ai.onnx.ml', ML_OPS], ['ai.onnx.preview.training', TRAINING_OPS],
  ['com.microsoft', MS_OPS],
]);

/**
 * Domains known as a whole: the Vitis AI quantizer's ops (com.vai.quantize) are versioned with the
 * quantizer, which adds ops between releases, so the domain itself is what the tool recognises.
 */
const OPEN_DOMAINS: ReadonlySet<string> = new Set(['com.vai.quantize']);

/** True when the tool knows `opType` in `domain` ('' and 'ai.onnx' are the default domain). */
export function isKnownOp(domain: string, opType: string): boolean {
  if (OPEN_DOMAINS.has(domain)) return true;
  return BY_DOMAIN.get(domain)?.has(opType) ?? false;
}
