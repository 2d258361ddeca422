//! Access to the router's shared state from a method.

use std::fmt;
use std::ops::Deref;

/// The router's shared state, or a part of it, handed to a method.
///
/// In a function under `#[rpc_method]`, a parameter of type `State<'_, T>` receives the state
/// instead of being read from the request's params; it is not one of the method's wire
/// parameters. `T` is the router's state type itself, or any type that implements
/// [`FromState`] for it.
///
/// ```
/// use rpc_core::{rpc_method, Router, State};
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// /// Counts calls.
/// #[rpc_method]
/// fn hit(counter: State<'_, AtomicU64>) -> u64 {
///     counter.fetch_add(1, Ordering::Relaxed) + 1
/// }
///
/// let mut router = Router::with_state(AtomicU64::new(0));
/// router.register(hit::method())?;
/// # Ok::<(), rpc_core::RegisterError>(())
/// ```
///
/// `State` derefs to `T`, so `state.field` and `state.method()` reach the `T` itself.
pub struct State<'a, T: ?Sized>(&'a T);

impl<'a, T: ?Sized> State<'a, T> {
    /// Wraps a reference to the state.
    pub fn new(state: &'a T) -> Self {
        State(state)
    }

    /// The reference, for as long as the state is borrowed (`Deref` gives a shorter one).
    pub fn get(self) -> &'a T {
        self.0
    }
}

impl<T: ?Sized> Deref for State<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.0
    }
}

impl<T: ?Sized> Clone for State<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: ?Sized> Copy for State<'_, T> {}

impl<T: ?Sized + fmt::Debug> fmt::Debug for State<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("State").field(&self.0).finish()
    }
}

/// Picks a part out of a router's state `S`, so that a method can ask for just that part.
///
/// Every type is its own state; implement this to hand out parts of a larger one:
///
/// ```
/// use rpc_core::{rpc_method, FromState, Router, State};
///
/// struct App {
///     greeting: Greeting,
/// }
///
/// struct Greeting(String);
///
/// impl FromState<App> for Greeting {
///     fn from_state(app: &App) -> &Self {
///         &app.greeting
///     }
/// }
///
/// /// Greets.
/// #[rpc_method]
/// fn greet(greeting: State<'_, Greeting>, name: String) -> String {
///     format!("{}, {name}!", greeting.0)
/// }
///
/// let mut router = Router::with_state(App { greeting: Greeting("Hello".into()) });
/// router.register(greet::method())?;
/// # Ok::<(), rpc_core::RegisterError>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not the router's state `{S}`, nor a part of it",
    label = "a `State` parameter of this type",
    note = "a `State<'_, T>` parameter takes the router's state itself, or a part of it: implement `FromState<{S}>` for `{Self}`"
)]
pub trait FromState<S> {
    /// The part of `state` this type is.
    fn from_state(state: &S) -> &Self;
}

impl<S> FromState<S> for S {
    fn from_state(state: &S) -> &Self {
        state
    }
}

/// A state `S` that a `T` can be taken from: the bound `#[rpc_method]` puts on the router's
/// state for each `State<'_, T>` parameter. It is written on `S` rather than on `T` so that
/// the compiler learns `S` from the router before checking it: the error for a `T` that is
/// no part of the state then points at the parameter, not at a type mismatch.
#[doc(hidden)]
pub trait StatePart<T: ?Sized> {
    /// The part.
    fn part(&self) -> &T;
}

impl<S, T: ?Sized + FromState<S>> StatePart<T> for S {
    fn part(&self) -> &T {
        T::from_state(self)
    }
}
