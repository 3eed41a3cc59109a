//! Other handles on the same tensors: worker threads each own a handle, the weights exist
//! once.

use tch::Tensor;

/// Another handle on the same tensors (`Tensor::shallow_clone`): worker threads each own a
/// handle, the weights exist once. Inference only reads them (libtorch's reference counts are
/// atomic), so handles run side by side without a lock.
pub(crate) trait Shallow {
    fn shallow(&self) -> Self;
}

impl Shallow for Tensor {
    fn shallow(&self) -> Self {
        self.shallow_clone()
    }
}

impl<A: Shallow, B: Shallow> Shallow for (A, B) {
    fn shallow(&self) -> Self {
        (self.0.shallow(), self.1.shallow())
    }
}

impl<T: Shallow> Shallow for Option<T> {
    fn shallow(&self) -> Self {
        self.as_ref().map(Shallow::shallow)
    }
}
