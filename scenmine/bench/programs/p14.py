# stopped car (refav_parity program p14)
description = 'stopped car'
cars = get_objects_of_category(log_dir, category='REGULAR_VEHICLE')
# parked cars barely move over the whole log; temporarily stopped cars have ~zero speed
parked_cars = stationary(cars, log_dir)
temporarily_stopped_cars = has_velocity(cars, log_dir, min_velocity=0, max_velocity=0.5)
stopped_cars = scenario_or([parked_cars, temporarily_stopped_cars])
output_scenario(stopped_cars, description, log_dir, output_dir)
