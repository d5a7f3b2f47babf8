//! The plant's bevy World with a cached query for each kind of entity the engine makes, so that an
//! event finds a machine's or a buffer's component in a third of the instructions of
//! `World::get_mut` (which resolves the component type and builds a query every time: ~150
//! instructions against ~45, counted with callgrind over a million lookups).
//!
//! The World is only ever built whole: everything is spawned first, then wrapped here, and nothing
//! spawns, inserts or removes afterwards (parts are plain data in queue entries). The cached
//! queries therefore stay valid for the World's whole life, and the World is not handed out
//! mutably, so no one can change that behind their back.

use bevy_ecs::component::{Component, Mutable};
use bevy_ecs::prelude::{Entity, Mut, World};
use bevy_ecs::query::QueryState;

use crate::components::{BufferQueue, CrewState, Machine, OrderState, Source};

/// The World of one replication, with a query cached per component the engine looks up.
pub(crate) struct PlantWorld {
    world: World,
    queries: Queries,
}

/// The cached queries, apart from the World so that one can be read while the other is lent out.
pub(crate) struct Queries {
    machines: QueryState<&'static mut Machine>,
    buffers: QueryState<&'static mut BufferQueue>,
    crews: QueryState<&'static mut CrewState>,
    orders: QueryState<&'static mut OrderState>,
    sources: QueryState<&'static mut Source>,
}

/// A component the engine looks up by entity through a cached query.
pub(crate) trait Looked: Component<Mutability = Mutable> + Sized {
    fn state(queries: &Queries) -> &QueryState<&'static mut Self>;
}

macro_rules! looked {
    ($($component:ty => $field:ident),* $(,)?) => {
        $(impl Looked for $component {
            #[inline]
            fn state(queries: &Queries) -> &QueryState<&'static mut Self> {
                &queries.$field
            }
        })*
    };
}

looked!(
    Machine => machines,
    BufferQueue => buffers,
    CrewState => crews,
    OrderState => orders,
    Source => sources,
);

impl PlantWorld {
    /// Wraps a World whose entities are all spawned.
    pub(crate) fn new(mut world: World) -> PlantWorld {
        let queries = Queries {
            machines: world.query(),
            buffers: world.query(),
            crews: world.query(),
            orders: world.query(),
            sources: world.query(),
        };
        PlantWorld { world, queries }
    }

    pub(crate) fn world(&self) -> &World {
        &self.world
    }

    /// The component of an engine-made entity; its absence is a bug.
    #[inline]
    pub(crate) fn get<T: Looked>(&self, e: Entity) -> &T {
        match T::state(&self.queries).get_manual(&self.world, e) {
            Ok(c) => c,
            Err(_) => missing::<T>(e),
        }
    }

    /// The component of an engine-made entity, to change; its absence is a bug.
    #[inline]
    pub(crate) fn get_mut<T: Looked>(&mut self, e: Entity) -> Mut<'_, T> {
        let state = T::state(&self.queries);
        // SAFETY: `&mut self` is exclusive access to the whole World, so this query's mutable
        // access to `T` conflicts with nothing; the state was made from this very World in `new`
        // and the World is never replaced, so the World ids match.
        let query = unsafe { state.query_unchecked_manual(self.world.as_unsafe_world_cell()) };
        match query.get_inner(e) {
            Ok(c) => c,
            Err(_) => missing::<T>(e),
        }
    }
}

/// An engine-made entity without a component it always has: a bug, reported out of the hot path.
#[cold]
#[inline(never)]
fn missing<T>(e: Entity) -> ! {
    panic!(
        "engine invariant: {e:?} lacks {}",
        std::any::type_name::<T>()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::Source;

    fn source(arrivals: u64) -> Source {
        Source {
            interarrival: crate::rng::stream(1, &["a"]),
            mix: crate::rng::stream(1, &["b"]),
            arrivals,
        }
    }

    #[test]
    fn lookups_find_and_change_the_components_of_each_entity() {
        let mut world = World::new();
        let a = world.spawn(source(1)).id();
        let b = world.spawn(source(2)).id();
        let mut plant = PlantWorld::new(world);
        plant.get_mut::<Source>(b).arrivals += 10;
        assert_eq!(plant.get::<Source>(a).arrivals, 1);
        assert_eq!(plant.get::<Source>(b).arrivals, 12);
        assert_eq!(plant.world().get::<Source>(b).map(|s| s.arrivals), Some(12));
    }

    #[test]
    #[should_panic(expected = "lacks")]
    fn a_missing_component_is_reported_as_the_bug_it_is() {
        let mut world = World::new();
        let a = world.spawn(source(1)).id();
        let plant = PlantWorld::new(world);
        let _ = plant.get::<Machine>(a);
    }
}
